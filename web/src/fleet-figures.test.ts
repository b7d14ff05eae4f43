import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  arrowStates,
  capacityBars,
  countStates,
  moveStatus,
  overallStatus,
  resultLine,
  type ProgressInput,
} from './fleet-figures.js';

test('capacity bars: memory used of offered, active vCPUs of CPUs, load of CPUs', () => {
  const bars = capacityBars({
    cpus: 2,
    load1: 0.5,
    memoryKiB: 1024 * 1024,
    freeMemoryKiB: 768 * 1024,
    guests: [
      { state: 'running', vcpus: 2 },
      { state: 'paused', vcpus: 1 },
      { state: 'shut off', vcpus: 4 },
    ],
  });
  assert.deepEqual(bars.memory, {
    value: 256 * 1024,
    max: 1024 * 1024,
    percent: 25,
    text: '256 MiB of 1 GiB (768 MiB free)',
  });
  assert.equal(bars.vcpus.value, 3);
  assert.equal(bars.vcpus.percent, 150);
  assert.equal(bars.vcpus.text, '3 vCPUs on 2 CPUs');
  assert.equal(bars.load.percent, 25);
  assert.equal(bars.load.text, 'load 0.50 on 2 CPUs');
});

test('a host offering nothing reads 0 %, not NaN', () => {
  const bars = capacityBars({ cpus: 0, load1: 0, memoryKiB: 0, freeMemoryKiB: 0, guests: [] });
  assert.equal(bars.memory.percent, 0);
  assert.equal(bars.vcpus.percent, 0);
});

const progress: ProgressInput = {
  moves: [
    { order: 1, guest: 'a', state: 'completed', percent: 100, downtimeMs: 80 },
    { order: 2, guest: 'b', state: 'running', percent: 45.6, etaMs: 12_000 },
    { order: 3, guest: 'c', state: 'pending', percent: 0 },
  ],
  overallPercent: 48.2,
  overallEtaMs: 30_000,
  elapsedMs: 5000,
  finished: false,
};

test('arrows are planned before a run and take each move state during it', () => {
  assert.deepEqual(
    [...arrowStates([1, 2], undefined)],
    [
      [1, 'planned'],
      [2, 'planned'],
    ],
  );
  assert.deepEqual(
    [...arrowStates([1, 2, 3, 4], progress)],
    [
      [1, 'completed'],
      [2, 'running'],
      [3, 'pending'],
      [4, 'pending'],
    ],
  );
});

test('move and overall lines say state, percent and ETA', () => {
  const [completed, running, pending] = progress.moves;
  assert.ok(completed !== undefined && running !== undefined && pending !== undefined);
  assert.equal(moveStatus(running), 'running · 45 % · ETA 12.0 s');
  assert.equal(moveStatus(completed), 'completed · downtime 80 ms');
  assert.equal(
    moveStatus({ order: 4, guest: 'd', state: 'failed', percent: 3, error: 'boom' }),
    'failed: boom',
  );
  assert.equal(moveStatus(pending), 'waiting');
  assert.equal(overallStatus(progress), '1 of 3 moved · 1 running · 48 % · ETA 30.0 s');
});

test('the result counts moved, failed and skipped (never-started moves count as skipped)', () => {
  const done: ProgressInput = {
    ...progress,
    finished: true,
    moves: [
      { order: 1, guest: 'a', state: 'completed', percent: 100 },
      { order: 2, guest: 'b', state: 'failed', percent: 20, error: 'x' },
      { order: 3, guest: 'c', state: 'skipped', percent: 0 },
    ],
    elapsedMs: 12_345,
  };
  assert.deepEqual(countStates(done.moves), {
    pending: 0,
    running: 0,
    completed: 1,
    failed: 1,
    skipped: 1,
  });
  assert.equal(resultLine(done), '1 moved, 1 failed, 1 skipped in 12.3 s');
  assert.doesNotMatch(overallStatus(done), /ETA/);
});
