#!/bin/bash
# teardown.sh [--purge]: stops what setup.sh started (by its pid files), removes the namespaces.
STATE=${STATE:-/tmp/ferry-bench-libvirt}
NS=${NS:-fbl}
for h in a b; do
  d=$STATE/$h
  sock="qemu+unix:///system?socket=$d/run/libvirt-sock"
  if [ -S $d/run/libvirt-sock ]; then
    for dom in $(virsh -c "$sock" list --name 2>/dev/null); do virsh -c "$sock" destroy "$dom" >/dev/null 2>&1; done
    for dom in $(virsh -c "$sock" list --all --name 2>/dev/null); do virsh -c "$sock" undefine "$dom" >/dev/null 2>&1; done
  fi
  for pf in $d/run/qemu/*.pid; do
    [ -f "$pf" ] || continue
    p=$(cat "$pf"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null && grep -q qemu /proc/$p/comm 2>/dev/null && kill "$p"
  done
  if [ -f $d/libvirtd.pid ]; then
    p=$(cat $d/libvirtd.pid)
    if kill -0 "$p" 2>/dev/null && grep -q libvirtd /proc/$p/comm; then
      kill "$p"
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$p" 2>/dev/null && kill -9 "$p"
    fi
  fi
  # launcher = ip netns exec -> unshare -> sh -> exec tini -s -- libvirtd (same pid chain)
  if [ -f $d/libvirtd.launcher.pid ]; then
    lp=$(cat $d/libvirtd.launcher.pid)
    for _ in $(seq 1 30); do kill -0 "$lp" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$lp" 2>/dev/null && grep -qE 'tini|libvirtd' /proc/$lp/comm 2>/dev/null && kill "$lp"
  fi
  rm -f $d/libvirtd.pid $d/libvirtd.launcher.pid
done
ip netns del $NS-a 2>/dev/null
ip netns del $NS-b 2>/dev/null
[ "${1:-}" = "--purge" ] && rm -rf "$STATE"
echo "teardown done"
