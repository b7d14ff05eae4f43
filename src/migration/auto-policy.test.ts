import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SILENT_LOGGER } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { JobStats } from '../rpc/schema/migration.js';
import {
  AutoPolicy,
  AutoPolicyRunner,
  describeStep,
  type AutoPolicyOptions,
  type AutoStep,
} from './auto-policy.js';
import type { JobControl } from './source-watch.js';

const MiB = 1024 * 1024;

/**
 * One sample per pass start, as the watch sees them: [iteration, remaining MiB, expected
 * downtime ms, throttle %]. The shapes follow query-migrate over a 7.6 MiB/s link with the
 * test guest rewriting its 8 MiB working set at 20 MiB/s (migrate-auto.test.ts).
 */
type Pass = [number, number, number, number?];

function sample([iteration, remainingMiB, expectedMs, throttle]: Pass): JobStats {
  return {
    type: 'Unbounded',
    operation: 'Outgoing migration',
    status: 'active',
    iteration,
    dataRemaining: Math.round(remainingMiB * MiB),
    expectedDowntimeMs: expectedMs,
    dirtyRate: 20 * MiB,
    memoryBandwidth: 7.6 * MiB,
    ...(throttle === undefined ? {} : { autoConvergeThrottle: throttle }),
  };
}

const OPTIONS: AutoPolicyOptions = {
  startDowntimeMs: 300,
  maxDowntimeMs: 2000,
  maxThrottle: 99,
  postcopy: true,
};

/** Feeds each pass (and a few repeated samples of it, as the 100 ms watch does); returns the steps. */
function run(passes: Pass[], options = OPTIONS): { at: number; step: AutoStep }[] {
  const policy = new AutoPolicy(options);
  const steps: { at: number; step: AutoStep }[] = [];
  for (const p of passes)
    for (let i = 0; i < 3; i++) {
      const step = policy.next(sample(p));
      if (step !== undefined) steps.push({ at: p[0], step });
    }
  return steps;
}

test('a converging pre-copy is left alone', () => {
  const steps = run([
    [1, 180, 0],
    [2, 30, 3900],
    [3, 12, 1600],
    [4, 5, 650],
    [5, 2, 260],
  ]);
  assert.deepEqual(steps, []);
});

test('stuck passes raise the max downtime once, enough for what QEMU expects', () => {
  const steps = run([
    [1, 180, 0],
    [2, 8, 1050],
    [3, 8, 1060],
    [4, 7.8, 1040],
  ]);
  // Doubling (600) would not do: 1.25 × 1040 ms, rounded up to 100 ms.
  assert.deepEqual(
    steps.map((s) => [s.at, s.step.step === 'downtime' ? s.step.downtimeMs : s.step.step]),
    [[4, 1300]],
  );
});

test('stuck, then throttled: downtime up to the bound, auto-converge, then post-copy', () => {
  const steps = run(
    [
      [1, 180, 0],
      [2, 8, 1050],
      [3, 8, 1060],
      [4, 8, 1050], // stuck twice: step 1 (300 → 600)
      [5, 8, 1050],
      [6, 8, 1040],
      [7, 8, 1070], // stuck twice more at the bound: step 2
      [8, 8, 1060, 1],
      [9, 8, 1060, 21],
      [10, 8, 1050, 21],
      [11, 8, 1050, 41],
      [12, 8, 1060, 50], // at the bound and stuck: step 3
      [13, 8, 1060, 50],
    ],
    { ...OPTIONS, maxDowntimeMs: 600, maxThrottle: 50 },
  );
  assert.deepEqual(
    steps.map((s) => [s.at, s.step.step]),
    [
      [4, 'downtime'],
      [7, 'auto-converge'],
      [12, 'postcopy'],
    ],
  );
  assert.match(
    describeStep(1, steps[0]?.step ?? { step: 'postcopy', why: '' }),
    /^auto step 1: max downtime raised to 600 ms: each of the last 2 passes started with about 8\.0 MiB again \(dirty rate 20\.0 MiB\/s, throughput 7\.6 MiB\/s\); expected downtime 1050 ms, max downtime 300 ms$/,
  );
});

test('stuck then throttled into convergence: no post-copy', () => {
  const steps = run(
    [
      [1, 180, 0],
      [2, 8, 1050],
      [3, 8, 1060],
      [4, 8, 1050], // step 1: straight to the 1000 ms bound
      [5, 8, 1050],
      [6, 8, 1040], // step 2
      [7, 8, 1060, 1],
      [8, 8, 1050, 21],
      [9, 7, 900, 41],
      [10, 4, 520, 61],
      [11, 1.5, 190, 81],
    ],
    { ...OPTIONS, maxDowntimeMs: 1000 },
  );
  assert.deepEqual(
    steps.map((s) => s.step.step),
    ['downtime', 'auto-converge'],
  );
});

test('without post-copy (copied disks, multifd) the last step says nothing is left, once', () => {
  const passes: Pass[] = [[1, 180, 0]];
  for (let i = 2; i < 30; i++) passes.push(i > 7 ? [i, 8, 1050, 99] : [i, 8, 1050]);
  const steps = run(passes, { ...OPTIONS, postcopy: false, maxDowntimeMs: 600 });
  assert.deepEqual(
    steps.map((s) => s.step.step),
    ['downtime', 'auto-converge', 'exhausted'],
  );
  assert.match(steps[2]?.step.why ?? '', /post-copy is not possible for this job/);
});

test('samples in post-copy or without RAM statistics are ignored', () => {
  const policy = new AutoPolicy(OPTIONS);
  assert.equal(policy.next({ type: 'Unbounded', status: 'setup' }), undefined);
  for (let i = 2; i < 8; i++)
    assert.equal(
      policy.next({ ...sample([i, 8, 1050]), status: 'postcopy-active', postcopy: true }),
      undefined,
    );
});

test('a step QEMU refuses is logged as not applied and the job goes on (fake QMP: error path only)', async () => {
  const warned: string[] = [];
  const log = { ...SILENT_LOGGER, warn: (_o: object, msg: string) => void warned.push(msg) };
  const qmp = {
    execute: () => Promise.reject(new Error('QMP command failed: migration is over')),
  } as unknown as QmpClient;
  const control: JobControl = { aborted: false, postcopyRequested: false };
  const runner = new AutoPolicyRunner(qmp, control, log, 'vm', OPTIONS);
  for (const p of [
    [1, 180, 0],
    [2, 8, 1050],
    [3, 8, 1050],
    [4, 8, 1050],
  ] as Pass[])
    await runner.onSample(sample(p));
  assert.equal(control.autoSteps, undefined);
  assert.equal(warned.length, 1);
  assert.match(warned[0] ?? '', /^auto step 1: max downtime raised to 1400 ms: .*\(not applied\)$/);
});
