#!/usr/bin/env bash
# npm run bench: every benchmark, results printed and kept in bench/results/.
# The migration benchmark also measures libvirt when it can set it up here (root, and the
# Debian packages libvirt-daemon-system, libvirt-clients and tini); otherwise it says why and
# compares Ferry with bare QEMU only. `npm run bench -- storage transport` runs only those;
# `npm run bench -- predict` the migration-time prediction against real migrations.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(daemon boot migrate transport storage predict preflight evacuate)
for b in "${benches[@]}"; do
  echo "== $b"
  node --import tsx "bench/$b.bench.ts" 2>/dev/null | tee "bench/results/$b-$stamp.txt"
done
