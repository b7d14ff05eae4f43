#!/usr/bin/env node
// CommonJS like bin/ferry.js (see bin/package.json); the testbed itself is an ES module.
'use strict';
void import('../dist/testbed/cli.js')
  .then((cli) => cli.runTestbedCli(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
