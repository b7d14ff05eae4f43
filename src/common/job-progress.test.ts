import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etaSeconds, jobThroughput, samplePercent } from './job-progress.js';

const MiB = 1024 * 1024;

test('etaSeconds() uses the net rate in pre-copy and the throughput in post-copy and before memory starts', () => {
  const pre = {
    type: 'Unbounded',
    iteration: 2,
    memoryBandwidth: 10 * MiB,
    dataRemaining: 100 * MiB,
  };
  assert.equal(etaSeconds({ ...pre, dirtyRate: 5 * MiB }), 20);
  assert.equal(etaSeconds({ ...pre, dirtyRate: 10 * MiB }), undefined, 'not gaining');
  assert.equal(etaSeconds({ ...pre, dirtyRate: 50 * MiB, postcopy: true }), 10);
  const disks = { type: 'Unbounded', diskBandwidth: 20 * MiB, dataRemaining: 100 * MiB };
  assert.equal(jobThroughput(disks), 20 * MiB);
  assert.equal(etaSeconds({ ...disks, dirtyRate: 50 * MiB }), 5, 'the disks go first');
  assert.equal(etaSeconds({ type: 'Completed' }), 0);
  assert.equal(etaSeconds({ type: 'Failed' }), undefined);
});

test('samplePercent() is processed over processed + remaining, 99 while anything remains', () => {
  assert.equal(samplePercent({ type: 'Unbounded', dataProcessed: 30, dataRemaining: 70 }), 30);
  assert.equal(samplePercent({ type: 'Unbounded', dataProcessed: 9999, dataRemaining: 1 }), 99);
  assert.equal(samplePercent({ type: 'Unbounded' }), 0);
  assert.equal(samplePercent({ type: 'Completed', dataRemaining: 5 }), 100);
});
