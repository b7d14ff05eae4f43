import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkMemory,
  guestMemoryFree,
  memoryNeeded,
  QEMU_OVERHEAD_BYTES,
  readMemAvailable,
  readMemTotal,
} from './memory.js';

const MiB = 1024 * 1024;

test('checkMemory(): enough passes, near warns, short fails', () => {
  const guest = 1024 * MiB;
  const need = memoryNeeded(guest);
  assert.equal(need, Math.ceil(guest * 1.05) + QEMU_OVERHEAD_BYTES);
  assert.equal(checkMemory(guest, 4096 * MiB).verdict, 'pass');
  assert.equal(checkMemory(guest, need + MiB).verdict, 'warn');
  const short = checkMemory(guest, need - 1);
  assert.equal(short.verdict, 'fail');
  assert.match(
    short.reason,
    /^guest 1 GiB \(\+ QEMU ≈ 179\.2 MiB\), destination has 1\.2 GiB available: not enough memory$/,
  );
});

test('readMemAvailable() reads MemAvailable in bytes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-meminfo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'meminfo');
  writeFileSync(
    file,
    'MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    2000000 kB\n',
  );
  assert.equal(readMemAvailable(file), 2_000_000 * 1024);
  assert.ok(readMemAvailable() > 0);
});

test('guestMemoryFree(): offered minus what active guests need, capped by MemAvailable', () => {
  const offered = 1024 * MiB;
  const guests = [128 * MiB, 256 * MiB];
  const used = memoryNeeded(128 * MiB) + memoryNeeded(256 * MiB);
  assert.equal(
    guestMemoryFree({
      offeredBytes: offered,
      memAvailableBytes: 8192 * MiB,
      activeGuestBytes: guests,
    }),
    offered - used,
  );
  assert.equal(
    guestMemoryFree({
      offeredBytes: offered,
      memAvailableBytes: 100 * MiB,
      activeGuestBytes: guests,
    }),
    100 * MiB,
    'never above MemAvailable',
  );
  assert.equal(
    guestMemoryFree({
      offeredBytes: 256 * MiB,
      memAvailableBytes: 8192 * MiB,
      activeGuestBytes: guests,
    }),
    0,
    'never below 0',
  );
});

test('readMemTotal() reads MemTotal in bytes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-meminfo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'meminfo');
  writeFileSync(file, 'MemTotal:        8000000 kB\nMemAvailable:    2000000 kB\n');
  assert.equal(readMemTotal(file), 8000000 * 1024);
});
