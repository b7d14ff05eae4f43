#!/bin/busybox sh
# /init of the Ferry test guest (busybox sh, PID 1).
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
read -r up _ </proc/uptime
echo "FERRY-GUEST-BOOTED uptime=$up"

# Drivers for a virtio disk (/dev/vda) and for the ACPI power button, loaded in
# the background so they do not delay the first heartbeat (the disk workload
# waits for its device node). Listed in dependency order by build.sh.
(
  for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" 2>/dev/null
  done
  # ACPI power button (QMP system_powerdown, virsh shutdown): busybox acpid
  # runs /etc/acpi/PWRF/00000080, which prints FERRY-GUEST-POWEROFF and powers off.
  # FERRY-ACPI-READY tells tests the power button is heard from now on: acpid has opened
  # the event device (an earlier press is lost, as on a real machine still booting).
  if [ -e /dev/input/event0 ]; then
    acpid -f -c /etc/acpi -l /dev/null &
    apid=$!
    until ls -l /proc/$apid/fd 2>/dev/null | grep -q /dev/input/event; do sleep 0.1; done
    echo "FERRY-ACPI-READY"
    wait $apid
  fi
) &

/bin/ferry-workload
echo "FERRY-WORKLOAD-EXITED rc=$?"
while :; do sleep 3600; done
