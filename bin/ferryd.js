#!/usr/bin/env node
// CommonJS like bin/ferry.js (see bin/package.json); the daemon itself is an ES module.
'use strict';
void import('../dist/daemon/main.js').then((daemon) => daemon.runDaemon(process.argv.slice(2)));
