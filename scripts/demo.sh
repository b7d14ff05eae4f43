#!/usr/bin/env bash
# npm run demo: a ferryd on a temporary state directory, the test guest defined and started
# through it, `ferry list --all`, a few of the guest's own heartbeats, then everything cleaned up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

tmp=$(mktemp -d /tmp/ferry-demo-XXXXXX)
sock="$tmp/run/ferry-sock"
export FERRY_DEFAULT_URI="qemu+unix:///system?socket=$sock"
daemon_pid=""
cleanup() {
  set +e
  if [[ -n "$daemon_pid" ]]; then
    node bin/ferry.js destroy demo >/dev/null 2>&1
    kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
ferry() { say "ferry $*"; node bin/ferry.js "$@"; }

: > "$tmp/ferryd.conf"
echo "Starting ferryd (state in $tmp, log in $tmp/ferryd.log)"
node bin/ferryd.js --config "$tmp/ferryd.conf" --state-dir "$tmp/state" --run-dir "$tmp/run" \
  --socket "$sock" 2> "$tmp/ferryd.log" &
daemon_pid=$!
for _ in $(seq 100); do [[ -S "$sock" ]] && break; sleep 0.1; done

source guest/out/guest.env
cat > "$tmp/demo.xml" <<XML
<domain type='qemu'>
  <name>demo</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$FERRY_GUEST_KERNEL</kernel>
    <initrd>$FERRY_GUEST_INITRD</initrd>
    <cmdline>$FERRY_GUEST_CMDLINE ferry.hb_ms=1000 ferry.dirty_mb=32 ferry.dirty_rate=4</cmdline>
  </os>
  <devices>
    <serial type='file'>
      <source path='$tmp/demo-serial.log' append='on'/>
      <target port='0'/>
    </serial>
  </devices>
</domain>
XML

ferry version
ferry define "$tmp/demo.xml"
ferry list --all
ferry start demo
ferry list --all
ferry dominfo demo
say "tail -f $tmp/demo-serial.log   # the guest's own heartbeats"
for _ in $(seq 300); do grep -q FERRY-HB "$tmp/demo-serial.log" 2>/dev/null && break; sleep 0.1; done
timeout 5 tail -n +1 -f "$tmp/demo-serial.log" | grep --line-buffered -E 'FERRY-(HB|GUEST)' || true
ferry suspend demo
ferry domstate demo --reason
ferry resume demo
ferry destroy demo
ferry undefine demo
ferry list --all
echo "Demo finished; cleaning up."
