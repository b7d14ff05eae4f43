#!/usr/bin/env bash
# npm run demo: two Ferry hosts (two ferryd, each with its own state) on this machine; the
# demo guest boots on the first, is live-migrated to the second while it dirties memory, and
# its own heartbeat shows it kept running. The destination is reached as the chapter writes it,
# qemu+tcp://HOST:PORT/system (loopback 127.0.0.2, unauthenticated: demo only). Everything is
# cleaned up at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

tmp=$(mktemp -d /tmp/ferry-demo-XXXXXX)
src_uri="qemu+unix:///system?socket=$tmp/src/run/ferry-sock"
dst_sock_uri="qemu+unix:///system?socket=$tmp/dst/run/ferry-sock"
pids=()
cleanup() {
  set +e
  node bin/ferry.js -c "$dst_sock_uri" destroy demo >/dev/null 2>&1
  node bin/ferry.js -c "$src_uri" destroy demo >/dev/null 2>&1
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
ferry() { say "ferry $*"; node bin/ferry.js "$@"; }
beats() { grep -E 'FERRY-(HB|GUEST)' "$tmp/demo-serial.log" | tail -n "$1"; }

for host in src dst; do
  mkdir -p "$tmp/$host"
  : > "$tmp/$host/ferryd.conf"
  if [[ $host == dst ]]; then
    printf 'listen_tcp = 1\nlisten_addr = "127.0.0.2"\ntcp_port = 0\nauth_tcp = "none"\n' \
      > "$tmp/$host/ferryd.conf"
  fi
  node bin/ferryd.js --config "$tmp/$host/ferryd.conf" --state-dir "$tmp/$host/state" \
    --run-dir "$tmp/$host/run" 2> "$tmp/$host/ferryd.log" &
  pids+=($!)
done
for host in src dst; do
  for _ in $(seq 100); do grep -q '"ferryd ready"' "$tmp/$host/ferryd.log" && break; sleep 0.1; done
done
# tcp_port = 0 took a free port; the ready line names it.
dst_addr=$(grep -o '"tcp":"[^"]*"' "$tmp/dst/ferryd.log" | head -1 | cut -d'"' -f4)
dst_uri="qemu+tcp://$dst_addr/system"
echo "Two hosts: source $src_uri"
echo "           destination $dst_uri"

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

export FERRY_DEFAULT_URI="$src_uri"
ferry define "$tmp/demo.xml"
ferry start demo
ferry list --all
say "tail $tmp/demo-serial.log   # the guest's own heartbeats: it dirties 10 MiB/s and checks every page"
for _ in $(seq 300); do grep -q 'seq=6 ' "$tmp/demo-serial.log" 2>/dev/null && break; sleep 0.1; done
beats 4
ferry migrate --live --persistent --verbose demo "$dst_uri"
ferry -c "$src_uri" list --all
ferry -c "$dst_uri" list --all
ferry domjobinfo demo --completed
say "tail $tmp/demo-serial.log   # the same guest, now on the destination: sequence continues, corrupt=0"
sleep 3
beats 8
echo
echo "Demo finished; cleaning up."
