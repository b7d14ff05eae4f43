#!/usr/bin/env bash
# Compiles src/ to dist/ (tsc, file by file, for readable stack traces in ferryd), then bundles
# the CLI into one CommonJS file with a V8 code cache beside it: `ferry` starts on every
# command, and one pre-compiled file loads several times faster than twenty modules that V8
# must parse and compile each time (bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
npx esbuild dist/cli/main.js --bundle --platform=node --format=cjs --target=node20 \
  --outfile=dist/ferry.cjs --log-level=warning --minify-whitespace --minify-syntax
npx esbuild dist/rpc/transport/ssh-helper-main.js --bundle --platform=node --format=cjs \
  --target=node20 --outfile=dist/ferry-ssh-helper.cjs --log-level=warning --minify-syntax
node bin/ferry.js --make-code-cache
# The web console (web/): Preact + uPlot, built into static files ferryd serves from dist/web.
npx vite build --config web/vite.config.ts
