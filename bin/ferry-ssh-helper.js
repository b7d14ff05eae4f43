#!/usr/bin/env node
// The remote end of qemu+ssh:// connections (src/rpc/transport/ssh-helper.ts): sshd runs it
// on the destination host to join ssh's stdio to the local ferryd socket. CommonJS and one
// small bundle, as it starts once per ssh connection.
'use strict';
const { join } = require('node:path');

const { runSshHelper } = require(join(__dirname, '..', 'dist', 'ferry-ssh-helper.cjs'));
void runSshHelper(process.argv.slice(2)).then((code) => {
  process.exit(code);
});
