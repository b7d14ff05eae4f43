import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobStats } from '../rpc/schema/migration.js';
import { MoveProgress } from './move-progress.js';

const MiB = 1024 * 1024;
const stats = (o: Partial<JobStats>): JobStats => ({ type: 'Unbounded', status: 'active', ...o });

void test('percent never goes back and is 100 only once nothing remains', () => {
  const p = new MoveProgress();
  assert.equal(p.update(stats({ dataProcessed: 80 * MiB, dataRemaining: 20 * MiB })).percent, 80);
  assert.equal(p.update(stats({ dataProcessed: 90 * MiB, dataRemaining: 60 * MiB })).percent, 80);
  assert.equal(p.update(stats({ dataProcessed: 1000 * MiB, dataRemaining: 1 })).percent, 99);
  assert.equal(p.update(stats({ type: 'Completed', status: 'completed' })).percent, 100);
});

void test('ETA: net of the dirty rate in pre-copy, the throughput in post-copy or a disk copy', () => {
  const p = new MoveProgress();
  const base = { dataProcessed: MiB, dataRemaining: 40 * MiB, iteration: 2 };
  assert.equal(
    p.update(stats({ ...base, memoryBandwidth: 30 * MiB, dirtyRate: 10 * MiB })).etaMs,
    2000,
  );
  assert.equal(
    p.update(stats({ ...base, memoryBandwidth: 10 * MiB, dirtyRate: 10 * MiB })).etaMs,
    undefined,
    'not gaining: no ETA',
  );
  assert.equal(
    p.update(stats({ ...base, memoryBandwidth: 20 * MiB, dirtyRate: 30 * MiB, postcopy: true }))
      .etaMs,
    2000,
  );
  const disk = { dataProcessed: 0, dataRemaining: 40 * MiB, diskTotal: 40 * MiB };
  assert.equal(p.update(stats({ ...disk, diskBandwidth: 40 * MiB })).etaMs, 1000);
  assert.equal(p.update(stats({ type: 'None', status: 'none' })).etaMs, undefined);
  assert.deepEqual(p.complete(), { percent: 100, etaMs: 0 });
});
