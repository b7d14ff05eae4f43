#!/bin/bash
# setup.sh: two libvirtd "hosts" on this machine for the migration benchmark, adapted from
# ../shared/peers/libvirt/setup.sh (see its NOTES.md): one network namespace per host joined
# by a veth pair, one `libvirtd --listen` in each with private /etc/libvirt, /run/libvirt,
# /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt (bind mounts in a private mount
# namespace), run under `tini -s` so the QEMU processes libvirt double-forks are reaped at once
# (this sandbox's PID 1 reaps orphans only every 1-2 s, which adds ~1.5 s to every migration).
# Differences from the shared script: namespace, veth and address names are our own
# (fbl-a/fbl-b, 10.251.0.1/2), so it can run beside the shared set-up; no guest images are
# copied (the benchmark uses the Ferry test guest in place); state in $STATE.
# Needs root and the Debian packages libvirt-daemon-system, libvirt-clients, tini, iproute2.
set -euo pipefail
STATE=${STATE:-/tmp/ferry-bench-libvirt}
NS=${NS:-fbl}
declare -A ADDR=([a]=10.251.0.1 [b]=10.251.0.2)
declare -A HUUID=([a]=4a4a4a4a-0000-4000-8000-0000000000fa [b]=4b4b4b4b-0000-4000-8000-0000000000fb)

if [ -e "$STATE/a/libvirtd.pid" ] || ip netns list | grep -q "^$NS-a"; then
  echo "already set up? run teardown.sh first" >&2; exit 1
fi
mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt

ip netns add $NS-a
ip netns add $NS-b
ip link add $NS-va type veth peer name $NS-vb
ip link set $NS-va netns $NS-a
ip link set $NS-vb netns $NS-b
ip -n $NS-a link set lo up; ip -n $NS-b link set lo up
ip -n $NS-a addr add ${ADDR[a]}/24 dev $NS-va; ip -n $NS-a link set $NS-va up
ip -n $NS-b addr add ${ADDR[b]}/24 dev $NS-vb; ip -n $NS-b link set $NS-vb up

for h in a b; do
  d=$STATE/$h
  mkdir -p $d/etc/qemu $d/run $d/lib $d/log/qemu $d/cache
  cat > $d/etc/libvirtd.conf <<CONF
listen_tls = 0
listen_tcp = 1
listen_addr = "${ADDR[$h]}"
tcp_port = "16509"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
host_uuid = "${HUUID[$h]}"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
  cat > $d/etc/qemu.conf <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
migration_address = "${ADDR[$h]}"
migration_host = "${ADDR[$h]}"
migration_port_min = 49152
migration_port_max = 49215
CONF
  cp /etc/libvirt/libvirt.conf $d/etc/ 2>/dev/null || true
  ip netns exec $NS-$h unshare -m --propagation private sh -c "
    mount --bind $d/etc   /etc/libvirt
    mount --bind $d/run   /run/libvirt
    mount --bind $d/lib   /var/lib/libvirt
    mount --bind $d/log   /var/log/libvirt
    mount --bind $d/cache /var/cache/libvirt
    exec tini -s -- libvirtd --listen -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid
  " > $d/libvirtd.stdout 2>&1 < /dev/null &
  echo $! > $d/libvirtd.launcher.pid
done

for h in a b; do
  for _ in $(seq 1 100); do
    if virsh -c "qemu+unix:///system?socket=$STATE/$h/run/libvirt-sock" version >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  cp $STATE/$h/run/libvirtd.pid $STATE/$h/libvirtd.pid
  echo "host $h: libvirtd pid $(cat $STATE/$h/libvirtd.pid), qemu+tcp://${ADDR[$h]}/system in netns $NS-$h, qemu+unix:///system?socket=$STATE/$h/run/libvirt-sock"
done
ip netns exec $NS-a virsh -c qemu+tcp://${ADDR[b]}/system hostname >/dev/null && echo "A -> B tcp ok"
