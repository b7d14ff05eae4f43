import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phaseText, ProgressTracker } from './phase.js';
import type { JobStats } from './rpc/types.js';

const MiB = 1024 * 1024;
const running = (s: Partial<JobStats>): JobStats => ({
  type: 'Unbounded',
  status: 'active',
  ...s,
});

test('the phase names what the job is doing', () => {
  assert.equal(phaseText(running({ status: 'setup' })), 'Setting up');
  assert.equal(
    phaseText(running({ diskTotal: 100, diskRemaining: 50, memoryBandwidth: 0 })),
    'Copying storage',
  );
  assert.equal(phaseText(running({ iteration: 3, memoryBandwidth: 1 })), 'Pre-copy, iteration 3');
  assert.equal(phaseText(running({ status: 'postcopy-active', postcopy: true })), 'Post-copy');
  assert.equal(phaseText({ type: 'Completed', status: 'completed' }), 'Completed');
  assert.equal(phaseText({ type: 'Cancelled', status: 'cancelled' }), 'Cancelled');
  assert.equal(phaseText({ type: 'Failed', status: 'failed' }), 'Failed');
});

test('the percentage never goes back when a new pass re-sends dirtied pages', () => {
  const t = new ProgressTracker();
  const a = t.update(running({ dataProcessed: 90, dataRemaining: 10, iteration: 1 }));
  assert.equal(a.snapshot.percent, 90);
  const b = t.update(running({ dataProcessed: 100, dataRemaining: 50, iteration: 2 }));
  assert.equal(b.snapshot.percent, 90);
  const c = t.update(running({ dataProcessed: 1000, dataRemaining: 1 }));
  assert.equal(c.snapshot.percent, 99, '100 only once nothing remains');
  assert.equal(t.update({ type: 'Completed', status: 'completed' }).snapshot.percent, 100);
});

test('chart points split remaining memory from remaining disk', () => {
  const t = new ProgressTracker();
  const { point } = t.update(
    running({
      timeElapsedMs: 2500,
      dataRemaining: 300 * MiB,
      diskTotal: 1024,
      diskRemaining: 100 * MiB,
    }),
  );
  assert.deepEqual(point, { seconds: 2.5, memory: 200 * MiB, disk: 100 * MiB });
  const noDisk = t.update(running({ timeElapsedMs: 3000, dataRemaining: 5 })).point;
  assert.equal(noDisk.disk, null);
});
