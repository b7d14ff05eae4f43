import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lastWords } from './source-exit.js';

test("lastWords is QEMU's last line since its latest start, never the command line", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-exit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'vm.log');
  const start = (n: number): string =>
    `2026-11-27T14:0${n}:00.000Z: starting up\nqemu-system-x86_64 -name guest=vm1 -m 128\n`;
  writeFileSync(log, `${start(1)}old line\n${start(2)}`);
  assert.equal(lastWords(log), undefined, 'killed: QEMU said nothing since it started');
  writeFileSync(
    log,
    `${start(1)}old line\n${start(2)}qemu: warning: x\nmalloc_consolidate(): unaligned fastbin chunk detected\n\n`,
  );
  assert.equal(lastWords(log), 'malloc_consolidate(): unaligned fastbin chunk detected');
  assert.equal(lastWords(join(dir, 'missing.log')), undefined);
});
