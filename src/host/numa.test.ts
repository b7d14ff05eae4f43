import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCpuList, readNumaTopology } from './numa.js';

test('parseCpuList reads the kernel and libvirt cpuset syntax', () => {
  assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList('0-3,^2'), [0, 1, 3]);
  assert.deepEqual(parseCpuList(''), []);
  assert.throws(() => parseCpuList('3-1'), /invalid CPU list '3-1'/);
  assert.throws(() => parseCpuList('a'), /invalid CPU list 'a'/);
});

test('readNumaTopology reads each node of a sysfs tree', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-numa-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [id, cpus, kb] of [
    [1, '4-7', 2048],
    [0, '0-3', 1024],
  ] as const) {
    mkdirSync(join(dir, `node${id}`));
    writeFileSync(join(dir, `node${id}`, 'cpulist'), `${cpus}\n`);
    writeFileSync(join(dir, `node${id}`, 'meminfo'), `Node ${id} MemTotal:       ${kb} kB\n`);
  }
  writeFileSync(join(dir, 'online'), '0-1\n');
  assert.deepEqual(readNumaTopology(dir), {
    cells: [
      { id: 0, memoryKiB: 1024, cpus: [0, 1, 2, 3] },
      { id: 1, memoryKiB: 2048, cpus: [4, 5, 6, 7] },
    ],
  });
});

test('readNumaTopology makes one cell of the whole host when sysfs has no nodes', () => {
  const topo = readNumaTopology('/nonexistent-ferry-node-dir');
  assert.equal(topo.cells.length, 1);
  assert.equal(topo.cells[0]?.id, 0);
  assert.ok(topo.cells.every((c) => c.cpus.length >= 1));
});

test('this host has at least one NUMA cell with CPUs and memory', () => {
  const topo = readNumaTopology();
  assert.ok(topo.cells.length >= 1);
  for (const cell of topo.cells) assert.ok(cell.memoryKiB > 0);
});
