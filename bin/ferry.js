#!/usr/bin/env node
// Loads the bundled CLI (dist/ferry.cjs) with the V8 code cache scripts/build.sh made for
// it, so that V8 need not parse and compile the whole CLI on every command. A cache from
// another Node version is simply rejected by V8 and the CLI compiles as usual.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const bundle = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'ferry.cjs');
const cacheFile = `${bundle}.cache`;
const makeCache = process.argv[2] === '--make-code-cache';
const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), {
  filename: bundle,
  cachedData: !makeCache && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined,
});
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
if (makeCache) {
  writeFileSync(cacheFile, script.createCachedData());
} else {
  process.exitCode = await module.exports.runCli(process.argv.slice(2));
}
