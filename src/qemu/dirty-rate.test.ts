import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QmpClient } from '../qmp/index.js';
import { startDirtyRateCalc, unsupportedDirtyRateMode } from './dirty-rate.js';

test('only page-sampling is measured under TCG; dirty-ring never', () => {
  assert.equal(unsupportedDirtyRateMode('page-sampling', 'tcg'), undefined);
  assert.match(unsupportedDirtyRateMode('dirty-bitmap', 'tcg') ?? '', /crashes QEMU 7\.2/);
  assert.equal(unsupportedDirtyRateMode('dirty-bitmap', 'kvm'), undefined);
  assert.match(unsupportedDirtyRateMode('dirty-ring', 'tcg') ?? '', /needs KVM/);
  assert.match(unsupportedDirtyRateMode('dirty-ring', 'kvm') ?? '', /dirty ring/);
});

test('a period outside 1-60 s is refused before QEMU is asked', async () => {
  const calls: string[] = [];
  const qmp = {
    execute: (cmd: string) => {
      calls.push(cmd);
      return Promise.resolve({});
    },
  } as unknown as QmpClient;
  for (const s of [0, 61, 1.5]) {
    await assert.rejects(startDirtyRateCalc(qmp, s, 'page-sampling'), /must be 1-60 seconds/);
  }
  assert.deepEqual(calls, []);
  await startDirtyRateCalc(qmp, 2, 'page-sampling');
  assert.deepEqual(calls, ['calc-dirty-rate']);
});
