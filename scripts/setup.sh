#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for Ferry: Debian packages (apt-get when root; otherwise
# the exact command to run), npm packages, the TypeScript build and the test guest image.
# Every step is skipped when already done. Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

# openssh-server and iproute2: the testbed (src/testbed) runs an sshd per namespace host.
# openssl: `ferry tls-setup` makes the TLS certificates with it.
# qemu-block-extra (QEMU's nfs driver, libnfs) and libnfs-utils (nfs-ls): netfs pools that QEMU
# opens over NFS itself, as this kernel may have no NFS client (src/storage/netfs.ts).
# libvirt0: ferryd reads libvirt's CPU map (/usr/share/libvirt/cpu_map) as data (src/cpu).
packages=(qemu-system-x86 qemu-utils busybox-static cpio gcc libc6-dev xz-utils openssh-server iproute2
  openssl qemu-block-extra libnfs-utils libvirt0)
# Only the tests need these: libvirt's domain schema + xmllint validate our XML output,
# and virsh's test driver is the oracle for virsh's output formats and CPU baselines. nfs-ganesha,
# nfs-ganesha-vfs and rpcbind: the testbed's userspace NFS server (src/testbed/nfs.ts); like
# openssh-server, they must not start system services (policy-rc.d below). chromium: the web
# console's browser tests (test/e2e, driven by playwright-core).
if [[ "${1:-}" == "--test" ]]; then
  packages+=(libxml2-utils libvirt-clients nfs-ganesha nfs-ganesha-vfs rpcbind chromium)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ferry: missing Debian packages; as root run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # openssh-server must not start (or enable) a system sshd, nor nfs-ganesha and rpcbind
  # system NFS services: the testbed runs its own per host. A policy-rc.d exiting 101 forbids every service start during the install; one that
  # is already there (Docker images ship one) is left as it is.
  own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  if ((own_policy)); then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi

# The guest builder resolves Debian's kernel package through apt's lists, which a fresh
# machine may not have yet.
if [[ $(id -u) -eq 0 ]] && ! apt-cache policy linux-image-amd64 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  echo "setup: apt-get update (for the guest kernel package)"
  apt-get update -q >/dev/null
fi

lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -d node_modules || "$(cat node_modules/.ferry-lock 2>/dev/null)" != "$lock_sum" ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.ferry-lock
fi

echo "setup: building"
bash scripts/build.sh
bash guest/build.sh
