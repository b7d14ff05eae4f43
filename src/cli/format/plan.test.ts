import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Plan } from '../../rpc/schema/fleet-plan.js';
import { formatDuration, formatKiB, formatPlan } from './plan.js';

const PLAN: Plan = {
  id: 'p-1',
  kind: 'evacuate',
  title: 'evacuate h1',
  createdAt: '2026-11-27T16:00:00.000Z',
  moves: [
    {
      order: 1,
      guest: 'web',
      uuid: 'u1',
      from: 'h1',
      to: 'h2',
      mode: 'live',
      memoryKiB: 131072,
      dirtyRateMiBs: 2,
      predictedMs: 2400,
      predictedDowntimeMs: 40,
      reasons: [
        'most room left: 700 MiB free after it (headroom 128 MiB)',
        'not h3: 600 MiB free after it',
      ],
    },
    {
      order: 2,
      guest: 'archive',
      uuid: 'u2',
      from: 'h1',
      to: 'h3',
      mode: 'offline',
      memoryKiB: 262144,
      dirtyRateMiBs: 0,
      predictedMs: 1500,
      predictedDowntimeMs: 0,
      reasons: ['most room left: shut off, moves offline'],
    },
  ],
  unmovable: [{ guest: 'gpu', host: 'h1', reason: 'devices: hostdev cannot migrate' }],
  hosts: [
    {
      host: 'h1',
      memoryKiB: 1048576,
      usedBeforeKiB: 400000,
      usedAfterKiB: 150000,
      vcpusBefore: 3,
      vcpusAfter: 1,
      cpus: 2,
    },
    {
      host: 'h2',
      memoryKiB: 1048576,
      usedBeforeKiB: 0,
      usedAfterKiB: 250000,
      vcpusBefore: 0,
      vcpusAfter: 1,
      cpus: 2,
    },
  ],
  parallel: 2,
  parallelReason: 'link 60 MiB/s ÷ max(8, 2 × 10 MiB/s highest dirty rate) = 3',
  predictedMs: 3900,
  summary: ['2 of 3 guests leave h1; 1 cannot move and stay'],
};

void test('formatPlan(): title, table with reasons under each move, cannot move, parallel, total, memory, summary', () => {
  assert.equal(
    formatPlan(PLAN),
    [
      'Plan: evacuate h1 — 2 moves (plan p-1)',
      '',
      ' #   Guest     From   To   Mode      Predicted   Downtime',
      '-'.repeat(59),
      ' 1   web       h1     h2   live      2.4 s       40 ms',
      '       most room left: 700 MiB free after it (headroom 128 MiB)',
      '       not h3: 600 MiB free after it',
      ' 2   archive   h1     h3   offline   1.5 s       -',
      '       most room left: shut off, moves offline',
      '',
      'Cannot move:',
      '  gpu (on h1): devices: hostdev cannot migrate',
      '',
      'Parallel: 2 (link 60 MiB/s ÷ max(8, 2 × 10 MiB/s highest dirty rate) = 3)',
      'Predicted total: 3.9 s',
      '',
      'Memory used (before → after):',
      '  h1  391 MiB → 146 MiB of 1 GiB; vCPUs 3 → 1 on 2 CPUs',
      '  h2  0 MiB → 244 MiB of 1 GiB; vCPUs 0 → 1 on 2 CPUs',
      '',
      '2 of 3 guests leave h1; 1 cannot move and stay',
      '',
    ].join('\n'),
  );
});

void test('formatPlan(): a plan without moves says so', () => {
  const text = formatPlan({ ...PLAN, moves: [], unmovable: [], summary: [] });
  assert.match(text, /^Plan: evacuate h1 — 0 moves \(plan p-1\)\n\nNo moves\.\n\nParallel/);
});

void test('formatDuration() and formatKiB()', () => {
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(2449), '2.4 s');
  assert.equal(formatDuration(185_000), '3 min 5 s');
  assert.equal(formatKiB(1536 * 1024), '1.5 GiB');
  assert.equal(formatKiB(384 * 1024), '384 MiB');
});
