import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { GuestSize } from '../host/index.js';
import { memoryNeeded } from '../preflight/memory.js';
import { hostCapacity } from './capacity.js';

function meminfo(t: TestContext, totalKiB: number, availableKiB: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-capacity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'meminfo');
  writeFileSync(file, `MemTotal: ${totalKiB} kB\nMemAvailable: ${availableKiB} kB\n`);
  return file;
}

const guest = (name: string, memoryMiB: number, active: boolean, busy = false): GuestSize => ({
  name,
  uuid: `uuid-${name}`,
  state: active ? 'running' : 'shut off',
  persistent: true,
  active,
  vcpus: 1,
  memoryKiB: memoryMiB * 1024,
  busy,
});

void test('hostCapacity(): host_memory_mib offered, active guests (with overhead) subtracted', async (t) => {
  const guests = [guest('a', 128, true), guest('b', 256, false), guest('c', 64, true, true)];
  const cap = await hostCapacity({
    hostUuid: 'hu',
    hostMemoryMiB: 1024,
    guests: () => guests,
    cpuModel: () => Promise.resolve('qemu64'),
    meminfoPath: meminfo(t, 8 * 1024 * 1024, 4 * 1024 * 1024),
    hostname: 'h1',
  });
  const usedKiB = (memoryNeeded(128 * 1024 * 1024) + memoryNeeded(64 * 1024 * 1024)) / 1024;
  assert.equal(cap.memoryKiB, 1024 * 1024);
  assert.equal(cap.freeMemoryKiB, Math.floor(1024 * 1024 - usedKiB));
  assert.equal(cap.cpuModel, 'qemu64');
  assert.equal(cap.hostname, 'h1');
  assert.ok(cap.cpus >= 1);
  assert.deepEqual(
    cap.guests.map((g) => [g.name, g.state, g.busy]),
    [
      ['a', 'running', false],
      ['b', 'shut off', false],
      ['c', 'running', true],
    ],
  );
});

void test('hostCapacity(): MemTotal by default, free never above MemAvailable; CPU model unknown on error', async (t) => {
  const cap = await hostCapacity({
    hostUuid: 'hu',
    hostMemoryMiB: undefined,
    guests: () => [],
    cpuModel: () => Promise.reject(new Error('no qemu')),
    meminfoPath: meminfo(t, 2 * 1024 * 1024, 300 * 1024),
  });
  assert.equal(cap.memoryKiB, 2 * 1024 * 1024);
  assert.equal(cap.freeMemoryKiB, 300 * 1024);
  assert.equal(cap.cpuModel, 'unknown');
});
