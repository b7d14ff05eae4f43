/**
 * residentGuestBytes against a real guest: what it counts is the memory the guest wrote (its
 * workload's working set plus the kernel's), not the zero-filled rest of the huge pages that
 * make up its resident set.
 * @module
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { guestRamMapping, residentGuestBytes } from '../../src/preflight/resident.js';
import { qemuPids, startDaemon } from '../helpers/daemon.js';
import { guestXml, waitForConsole } from '../helpers/guest.js';

const MiB = 1024 * 1024;

void test('the resident guest bytes are the written ones, within the guest size', async (t) => {
  const d = await startDaemon(t);
  const serial = join(d.dir, 'r.log');
  const memory = 192 * MiB;
  const xml = guestXml({ name: 'r', memoryMiB: 192, dirtyMiB: 48, serialLog: serial });
  await d.ferryOk('create', d.file('r.xml', xml));
  await waitForConsole(serial, /FERRY-MEM filled/, 120_000);
  const [pid] = qemuPids(d.runDir);
  assert.ok(pid !== undefined, 'QEMU is running');
  const written = residentGuestBytes(pid, memory);
  const ram = guestRamMapping(readFileSync(`/proc/${pid}/smaps`, 'utf8'), memory);
  assert.ok(ram !== undefined, 'the guest-RAM mapping is found by its size');
  // The workload's 48 MiB of non-zero pages, plus what the kernel and initramfs wrote.
  assert.ok(written >= 48 * MiB, `written ${written / MiB} MiB`);
  assert.ok(written <= 48 * MiB + 64 * MiB, `written ${written / MiB} MiB`);
  assert.ok(written <= ram.rssBytes, `written ${written / MiB} MiB, Rss ${ram.rssBytes / MiB} MiB`);
  // A size no mapping has: everything counted as touched.
  assert.equal(residentGuestBytes(pid, memory + 4096), memory + 4096);
  await d.ferryOk('destroy', 'r');
});
