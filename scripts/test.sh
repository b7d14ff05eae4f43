#!/usr/bin/env bash
# The README's test command: set-up, type-check, lint, format check, then every test
# (unit tests beside the code, integration tests booting real QEMU guests) in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
echo "test: type-check"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p web/tsconfig.json
echo "test: lint"
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
echo "test: node --test"
mapfile -t files < <(find src test guest web/src -name '*.test.ts' -not -path '*/node_modules/*' | sort)
exec node --import tsx --test --test-concurrency="${FERRY_TEST_CONCURRENCY:-2}" "${files[@]}"
