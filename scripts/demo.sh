#!/usr/bin/env bash
# npm run demo: two Ferry hosts made by the testbed (network + mount namespaces on a private
# bridge, each with its own ferryd and sshd). The demo guest boots on "source", is
# live-migrated to "destination" while it dirties memory, exactly as the chapter writes it:
#   ferry migrate --live --persistent demo qemu+ssh://destination/system
# and its own heartbeat shows it kept running. Without root the testbed falls back to loopback
# hosts (no sshd), and the demo migrates over qemu+tcp instead. Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

tb="demo$$"
tmp=$(mktemp -d /tmp/ferry-demo-XXXXXX)
testbed() { node bin/ferry-testbed.js "$@"; }
cleanup() {
  set +e
  testbed down "$tb" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s[%s]$ %s%s\n' "$bold" "$1" "${*:2}" "$plain"; }
# Runs `ferry ARGS…` on a testbed host, showing the command as typed there.
on() { say "$1" "ferry ${*:2}"; testbed exec "$tb" "$1" -- ferry "${@:2}"; }
beats() { grep -E 'FERRY-(HB|GUEST)' "$tmp/demo-serial.log" | tail -n "$1"; }

testbed up 2 --name "$tb" --names source,destination
if [[ $(id -u) -eq 0 ]]; then dest_uri=qemu+ssh://destination/system; else
  # Loopback hosts have no names or sshd: the destination's ferryd by address, over TCP.
  dest_addr=$(testbed list | awk -v tb="$tb" '$1 == tb' | grep -o 'destination=[0-9.]*' | cut -d= -f2)
  dest_uri="qemu+tcp://$dest_addr/system"
fi

source guest/out/guest.env
cat > "$tmp/demo.xml" <<XML
<domain type='qemu'>
  <name>demo</name>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$FERRY_GUEST_KERNEL</kernel>
    <initrd>$FERRY_GUEST_INITRD</initrd>
    <cmdline>$FERRY_GUEST_CMDLINE ferry.hb_ms=500 ferry.dirty_mb=64 ferry.dirty_rate=10</cmdline>
  </os>
  <devices>
    <serial type='file'>
      <source path='$tmp/demo-serial.log' append='on'/>
      <target port='0'/>
    </serial>
  </devices>
</domain>
XML

on source define "$tmp/demo.xml"
on source start demo
on source list --all
say source "tail $tmp/demo-serial.log   # the guest's own heartbeats: it dirties 10 MiB/s and checks every page"
for _ in $(seq 300); do grep -q 'seq=6 ' "$tmp/demo-serial.log" 2>/dev/null && break; sleep 0.1; done
beats 4
# Will it migrate? Every check, the measured link and dirty rate, and a predicted time.
on source migrate --live --persistent --dry-run demo "$dest_uri"
on source migrate --live --persistent --verbose demo "$dest_uri"
on source list --all
on source -c "$dest_uri" list --all
on destination domjobinfo demo --completed
say destination "tail $tmp/demo-serial.log   # the same guest, now on the destination: sequence continues, corrupt=0"
sleep 3
beats 8
echo
echo "Demo finished; removing the testbed."
