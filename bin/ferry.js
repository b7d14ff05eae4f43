#!/usr/bin/env node
// CommonJS (bin/package.json), unlike the rest of the package: an ES module entry point makes
// Node set up its ES module loader first, about 15 ms of every `ferry` command's start-up.
// Loads the bundled CLI (dist/ferry.cjs) with the V8 code cache scripts/build.sh made for
// it, so that V8 need not parse and compile the whole CLI on every command. A cache from
// another Node version is simply rejected by V8 and the CLI compiles as usual.
'use strict';
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, '..', 'dist', 'ferry.cjs');
const cacheFile = `${bundle}.cache`;
const makeCache = process.argv[2] === '--make-code-cache';
const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), {
  filename: bundle,
  cachedData: !makeCache && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined,
});
const cli = { exports: {} };
script.runInThisContext()(cli.exports, Module.createRequire(bundle), cli, bundle, dirname(bundle));
if (makeCache) {
  writeFileSync(cacheFile, script.createCachedData());
} else {
  void cli.exports.runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
