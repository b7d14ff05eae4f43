#!/usr/bin/env bash
# Builds the Ferry test guest into guest/out/:
#   vmlinuz      Debian's stock amd64 kernel (extracted from the .deb, nothing installed)
#   vmlinux      the same kernel uncompressed (PVH ELF): boots ~2.5 s faster under TCG
#   initrd.img   gzip'd newc cpio: busybox, /init, /bin/ferry-workload, virtio-blk and
#                pvpanic modules
#   guest.env    FERRY_GUEST_KERNEL / FERRY_GUEST_INITRD / FERRY_GUEST_CMDLINE
#   stamp        sha256 over the inputs; an unchanged stamp means "up to date"
# Usage: bash guest/build.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/out"
cache="$out/cache"
force=0
[[ "${1:-}" == "--force" ]] && force=1

log() { printf 'guest: %s\n' "$*"; }
die() { printf 'guest: error: %s\n' "$*" >&2; exit 1; }

# Recommended base kernel command line (measured under TCG, see README.md).
# pti=on is NOT a security setting here: it works around QEMU 7.2 TCG losing
# dirty-page tracking for pages whose TLB entries stay hot across a migration
# bitmap sync (guest kernel crashes after multi-pass migrations without it);
# with PTI every user/kernel switch reloads CR3, which flushes QEMU's soft TLB.
# oops=panic and unknown_nmi_panic=1 turn a kernel oops (what a guest corrupted by a
# migration shows first) and an injected NMI into a panic, which the pvpanic driver
# reports to QEMU (GUEST_PANICKED) before panic=-1 would reboot the guest.
CMDLINE="console=ttyS0 quiet panic=-1 oops=panic unknown_nmi_panic=1 pti=on mitigations=off \
no_timer_check tsc=reliable random.trust_cpu=on cryptomgr.notests 8250.nr_uarts=1 i8042.noaux \
i8042.nokbd"

# ---------------------------------------------------------------- packages
needed=(busybox-static cpio gcc libc6-dev qemu-system-x86 xz-utils)
missing=()
for p in "${needed[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    printf 'guest: missing Debian packages; install them with:\n'
    printf '  sudo apt-get install -y --no-install-recommends %s\n' "${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi
BUSYBOX=/bin/busybox
[[ -x $BUSYBOX ]] || die "$BUSYBOX not found (busybox-static)"

# ---------------------------------------------------------------- kernel package
# linux-image-amd64 is a metapackage; the real package is linux-image-<abi>-amd64
# (signed build). FERRY_GUEST_KERNEL_PKG overrides the choice.
kpkg="${FERRY_GUEST_KERNEL_PKG:-}"
kver=""
if [[ -z $kpkg ]]; then
  # one apt-cache call: "Depends: linux-image-6.1.0-NN-amd64 (= 6.1.x-y)"
  read -r kpkg kver < <(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
    sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -n1) || true
fi
if [[ -n $kpkg && -z $kver ]]; then
  kver="$(apt-cache policy "$kpkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')"
  [[ $kver == "(none)" ]] && kver=""
fi
mkdir -p "$cache"
kdeb=""
if [[ -n $kpkg && -n $kver ]]; then
  # apt-get download names files <pkg>_<version with ':' as %3a>_<arch>.deb
  kdeb="$cache/${kpkg}_${kver//:/%3a}_amd64.deb"
fi
if [[ -z $kdeb ]]; then
  # apt metadata unusable (offline?): fall back to whatever kernel is cached
  kdeb="$(ls -1 "$cache"/linux-image-*.deb 2>/dev/null | sort -V | tail -n1 || true)"
  [[ -n $kdeb ]] || die "cannot resolve linux-image-amd64 (run apt-get update) and no cached kernel in $cache"
fi

# ---------------------------------------------------------------- cache check
stamp_of() {
  {
    sha256sum "$here/build.sh" "$here/workload.c" "$here/workload.h" "$here/disk-workload.c" \
      "$here/init.sh" "$BUSYBOX" | cut -d' ' -f1
    basename "$kdeb"
    echo "$CMDLINE"
    echo "$out" # guest.env holds absolute paths
  } | sha256sum | cut -d' ' -f1
}
stamp="$(stamp_of)"
if ((!force)) && [[ -f $out/stamp && "$(cat "$out/stamp")" == "$stamp" &&
  -s $out/vmlinuz && -s $out/vmlinux && -s $out/initrd.img && -s $out/guest.env ]]; then
  echo "guest: up to date (guest/out)"
  exit 0
fi

if [[ ! -s $kdeb ]]; then
  log "downloading $(basename "$kdeb") into $cache"
  (cd "$cache" && apt-get download "$kpkg=$kver" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  [[ -s $kdeb ]] || die "apt-get download $kpkg=$kver did not produce $kdeb"
  for old in "$cache"/linux-image-*.deb; do # drop superseded kernels (~70 MB each)
    [[ $old == "$kdeb" ]] || rm -f "$old"
  done
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ferry-guest.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

log "extracting $(basename "$kdeb")"
dpkg-deb -x "$kdeb" "$tmp/kernel"
vmlinuz="$(ls -1 "$tmp"/kernel/boot/vmlinuz-* 2>/dev/null | head -n1 || true)"
if [[ -z $vmlinuz ]]; then
  die "$(basename "$kdeb") holds no boot/vmlinuz-*; try FERRY_GUEST_KERNEL_PKG=${kpkg}-unsigned"
fi
kabi="${vmlinuz##*/vmlinuz-}"
moddir="$tmp/kernel/lib/modules/$kabi"
[[ -d $moddir ]] || die "no modules directory for $kabi"

# The bzImage's payload is XZ-compressed; decompressing it under TCG costs
# 3-5 s of boot time. The uncompressed vmlinux is an ELF with a PVH entry
# note (CONFIG_PVH=y), which QEMU boots directly with -kernel (via pvh.bin),
# so extract it once here.
log "extracting uncompressed vmlinux (PVH ELF) from $(basename "$vmlinuz")"
u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
setup_sects="$(u8 "$vmlinuz" $((0x1f1)))"
((setup_sects == 0)) && setup_sects=4
payload_off=$(( (setup_sects + 1) * 512 + $(u32 "$vmlinuz" $((0x248))) ))
payload_len="$(u32 "$vmlinuz" $((0x24c)))"
payload_magic="$(od -An -tx1 -j "$payload_off" -N6 "$vmlinuz" | tr -d ' ')"
case "$payload_magic" in
  fd377a585a00) decomp=(xz -dc --single-stream) ;;
  1f8b*) decomp=(gzip -dc) ;;
  28b52ffd*) decomp=(zstd -dc) ;;
  *) die "unsupported kernel payload compression (magic $payload_magic)" ;;
esac
tail -c +$((payload_off + 1)) "$vmlinuz" | head -c "$payload_len" | "${decomp[@]}" >"$tmp/vmlinux" 2>/dev/null || true
[[ "$(od -An -tx1 -N4 "$tmp/vmlinux" | tr -d ' ')" == 7f454c46 ]] || die "vmlinux extraction failed"

# ---------------------------------------------------------------- workload
log "compiling ferry-workload (static)"
gcc -static -O2 -Wall -Wextra -o "$tmp/ferry-workload" "$here/workload.c" "$here/disk-workload.c"
strip "$tmp/ferry-workload" 2>/dev/null || true

# ---------------------------------------------------------------- initramfs
root="$tmp/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules,etc/acpi/PWRF}
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [[ $applet == busybox ]] || ln -sf busybox "$root/bin/$applet"
done
ln -s bin "$root/sbin"
cp "$tmp/ferry-workload" "$root/bin/ferry-workload"
install -m 0755 "$here/init.sh" "$root/init"
# busybox acpid runs /etc/acpi/PWRF/00000080 on the ACPI power button
# It stops the workload first (SIGTERM: the disk workload records its last acknowledged
# writes and marks the disk clean, then exits), syncs, and only then powers off.
cat >"$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
pid=$(pidof ferry-workload)
if [ -n "$pid" ]; then
  kill -TERM $pid
  i=0
  while [ -d /proc/$pid ] && [ $i -lt 100 ]; do usleep 50000; i=$((i + 1)); done
fi
sync
echo FERRY-GUEST-POWEROFF >/dev/console
poweroff -f
EOF
chmod 0755 "$root/etc/acpi/PWRF/00000080"

# Kernel modules (with their dependencies, in load order). Nothing virtio is
# built into Debian's kernel (CONFIG_VIRTIO*=m); modules.dep is not shipped in
# the package (depmod runs at install time), so read the depends= modinfo field.
declare -A modpath=()
while IFS= read -r f; do
  n="${f##*/}"
  n="${n%%.ko*}"
  modpath[$n]="$f"
  modpath[${n//-/_}]="$f"
done < <(find "$moddir/kernel" -name '*.ko*')
mod_deps() { # prints the depends= list of a module file
  local f="$1"
  case "$f" in
    *.ko.xz) xz -dc "$f" ;;
    *.ko.zst) zstd -dc "$f" ;;
    *.ko.gz) gzip -dc "$f" ;;
    *) cat "$f" ;;
  esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
}
declare -A added=()
order=()
add_mod() {
  local m="${1//-/_}" d
  [[ -n ${added[$m]:-} ]] && return 0
  [[ -n ${modpath[$m]:-} ]] || die "kernel module $m not found in $kabi"
  added[$m]=1
  for d in $(mod_deps "${modpath[$m]}"); do add_mod "$d"; done
  order+=("$m")
  case "${modpath[$m]}" in
    *.ko.xz) xz -dc "${modpath[$m]}" >"$root/lib/modules/$m.ko" ;;
    *.ko.zst) zstd -dc "${modpath[$m]}" >"$root/lib/modules/$m.ko" ;;
    *.ko.gz) gzip -dc "${modpath[$m]}" >"$root/lib/modules/$m.ko" ;;
    *) cp "${modpath[$m]}" "$root/lib/modules/$m.ko" ;;
  esac
}
builtin_has() { grep -q "/$1.ko\$" "$moddir/modules.builtin" 2>/dev/null; }
# pvpanic_mmio first: it binds the ISA pvpanic device (ACPI QEMU0001) that reports a panic.
for m in pvpanic_mmio virtio_pci virtio_blk button evdev; do
  if builtin_has "$m"; then log "module $m is built in"; else add_mod "$m"; fi
done
printf '%s\n' "${order[@]}" >"$root/lib/modules/load-order"
log "modules: ${order[*]}"

log "packing initrd.img"
mkdir -p "$out"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
  gzip -9 -n >"$tmp/initrd.img"

# ---------------------------------------------------------------- install
cp "$vmlinuz" "$out/vmlinuz"
mv "$tmp/vmlinux" "$out/vmlinux"
mv "$tmp/initrd.img" "$out/initrd.img"
{
  echo "FERRY_GUEST_KERNEL=$out/vmlinux"
  echo "FERRY_GUEST_KERNEL_BZIMAGE=$out/vmlinuz"
  echo "FERRY_GUEST_INITRD=$out/initrd.img"
  echo "FERRY_GUEST_CMDLINE=\"$CMDLINE\""
  echo "FERRY_GUEST_KERNEL_VERSION=$kabi"
} >"$out/guest.env"
echo "$stamp" >"$out/stamp"
log "built $out/vmlinuz ($kabi), $out/initrd.img ($(du -k "$out/initrd.img" | cut -f1) KiB), $out/guest.env"
