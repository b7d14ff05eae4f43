#!/bin/busybox sh
# /init of the Ferry test guest (busybox sh, PID 1).
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
read -r up _ </proc/uptime
echo "FERRY-GUEST-BOOTED uptime=$up"

# Drivers for pvpanic, a virtio disk (/dev/vda) and the ACPI power button, loaded in
# the background so they do not delay the first heartbeat (the disk workload
# waits for its device node). Listed in dependency order by build.sh.
(
  for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" 2>/dev/null
    # FERRY-PVPANIC-READY: from now on a panic reaches QEMU as GUEST_PANICKED (tests wait
    # for it before they make the guest panic). Absent when the domain has no pvpanic device.
    if [ "$m" = pvpanic_mmio ] && ls /sys/bus/platform/drivers/pvpanic-mmio 2>/dev/null | grep -q QEMU0001; then
      echo "FERRY-PVPANIC-READY"
    fi
  done
  touch /tmp/modules-loaded
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

# Self-tests of the host's crash handling, after the modules (pvpanic) are in:
# ferry.panic_after=S panics the kernel S seconds later (sysrq 'c', from process context,
# so the panic text reaches the console before pvpanic stops the guest); ferry.halt_after=S
# halts it (`halt -f`: every vCPU stops with interrupts off, a guest that makes no progress
# while QEMU still says running).
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ferry.panic_after=*) panic_after="${arg#*=}" ;;
    ferry.halt_after=*) halt_after="${arg#*=}" ;;
  esac
done
if [ -n "$panic_after$halt_after" ]; then
  (
    until [ -e /tmp/modules-loaded ]; do sleep 0.1; done
    if [ -n "$panic_after" ]; then
      sleep "$panic_after"
      echo "FERRY-PANIC-TRIGGER"
      echo c >/proc/sysrq-trigger
    fi
    if [ -n "$halt_after" ]; then
      sleep "$halt_after"
      echo "FERRY-HALT-TRIGGER"
      halt -f
    fi
  ) &
fi

/bin/ferry-workload
echo "FERRY-WORKLOAD-EXITED rc=$?"
while :; do sleep 3600; done
