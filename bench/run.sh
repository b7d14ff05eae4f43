#!/usr/bin/env bash
# npm run bench: every benchmark, results printed and kept in bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
for b in daemon boot; do
  echo "== $b"
  node --import tsx "bench/$b.bench.ts" 2>/dev/null | tee "bench/results/$b-$stamp.txt"
done
