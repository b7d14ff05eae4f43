import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDomainXml } from '../domain/xml/index.js';
import type { NumaTopology } from '../host/numa.js';
import { checkNuma, formatCpuList, guestNumaOf } from './numa.js';

function domain(top: string, cpu = ''): ReturnType<typeof parseDomainXml>['def'] {
  return parseDomainXml(`<domain type='qemu'><name>g</name><memory unit='MiB'>128</memory><vcpu>2</vcpu>${top}
  <os><type arch='x86_64' machine='pc'>hvm</type></os>${cpu}<devices/></domain>`).def;
}

const ONE: NumaTopology = { cells: [{ id: 0, memoryKiB: 8 << 20, cpus: [0, 1] }] };
const TWO: NumaTopology = {
  cells: [
    { id: 0, memoryKiB: 8 << 20, cpus: [0, 1, 2, 3] },
    { id: 1, memoryKiB: 8 << 20, cpus: [4, 5, 6, 7] },
  ],
};

test('guestNumaOf() reads numatune, cputune and guest cells', () => {
  const g = guestNumaOf(
    domain(
      `<numatune><memory mode='strict' nodeset='0-1'/><memnode cellid='0' mode='strict' nodeset='1'/></numatune>
       <cputune><vcpupin vcpu='0' cpuset='4'/><vcpupin vcpu='1' cpuset='5-6,^6'/><emulatorpin cpuset='0-1'/></cputune>`,
      `<cpu><numa><cell id='0' cpus='0' memory='64' unit='MiB'/><cell id='1' cpus='1' memory='64' unit='MiB'/></numa></cpu>`,
    ),
  );
  assert.deepEqual(
    g.pins.map((p) => [p.what, p.set]),
    [
      ['numatune memory nodeset', [0, 1]],
      ['numatune memnode cellid 0 nodeset', [1]],
      ['vcpupin vcpu 0 cpuset', [4]],
      ['vcpupin vcpu 1 cpuset', [5]],
      ['emulatorpin cpuset', [0, 1]],
    ],
  );
  assert.equal(g.guestCells, 2);
});

test('checkNuma() fails on a node or a CPU the destination lacks, naming it', () => {
  const node1 = guestNumaOf(domain(`<numatune><memory nodeset='1'/></numatune>`));
  const v = checkNuma(node1, TWO, ONE);
  assert.equal(v.verdict, 'fail');
  assert.match(
    v.reason,
    /^numatune memory nodeset 1 names node 1 the destination lacks \(destination: 1 node \(0: CPUs 0-1\)\)$/,
  );
  const cpu = guestNumaOf(domain(`<cputune><vcpupin vcpu='0' cpuset='6-7'/></cputune>`));
  assert.match(
    checkNuma(cpu, TWO, ONE).reason,
    /vcpupin vcpu 0 cpuset 6-7 names CPUs 6-7 the destination lacks/,
  );
});

test('checkNuma() warns when pinning fits but the topologies differ, passes when alike', () => {
  const pinned = guestNumaOf(domain(`<numatune><memory nodeset='0'/></numatune>`));
  assert.equal(checkNuma(pinned, TWO, ONE).verdict, 'warn');
  assert.match(checkNuma(pinned, TWO, ONE).reason, /topologies differ/);
  assert.equal(checkNuma(pinned, ONE, ONE).verdict, 'pass');
  assert.deepEqual(checkNuma(guestNumaOf(domain('')), TWO, ONE), {
    verdict: 'pass',
    reason: 'guest not pinned to host NUMA nodes or CPUs',
  });
});

test('checkNuma() fails on a set it cannot read', () => {
  const bad = guestNumaOf(domain(`<cputune><emulatorpin cpuset='x'/></cputune>`));
  assert.deepEqual(checkNuma(bad, ONE, ONE), {
    verdict: 'fail',
    reason: "cannot read emulatorpin cpuset 'x'",
  });
});

test('formatCpuList() compresses runs', () => {
  assert.equal(formatCpuList([0, 1, 2, 3, 8, 10, 11]), '0-3,8,10-11');
  assert.equal(formatCpuList([]), '');
});
