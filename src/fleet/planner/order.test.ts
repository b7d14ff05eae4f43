import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planEvacuate } from './evacuate.js';
import { finishPlan } from './finish.js';
import { makespanMs, parallelism, startOrder, streamLimit } from './order.js';
import { fleet, guest, host } from './synthetic-fleet.js';

void test('startOrder: small and quiet first (memory × (1 + dirty rate)); offline moves carry no memory', () => {
  const m = (guest: string, memoryKiB: number, dirtyRateMiBs: number) => ({
    guest,
    memoryKiB,
    dirtyRateMiBs,
  });
  assert.deepEqual(
    startOrder([
      m('big', 1024, 0),
      m('busy', 256, 10),
      m('quiet', 256, 0),
      m('tiny', 128, 0.5),
    ]).map((x) => x.guest),
    ['tiny', 'quiet', 'big', 'busy'],
  );
  assert.deepEqual(
    startOrder([m('live', 128, 0), { ...m('off', 4096, 0), offline: true }]).map((x) => x.guest),
    ['off', 'live'],
  );
});

void test('parallelism = max(1, min(4, floor(link ÷ max(8, 2 × highest dirty rate))))', () => {
  assert.equal(parallelism(400, 0, 6).parallel, 4);
  assert.equal(parallelism(100, 10, 6).parallel, 4);
  assert.equal(parallelism(60, 10, 6).parallel, 3);
  assert.equal(parallelism(24, 0, 6).parallel, 3);
  assert.equal(parallelism(5, 20, 6).parallel, 1);
  assert.equal(
    parallelism(60, 10, 6).reason,
    'link 60 MiB/s ÷ max(8, 2 × 10 MiB/s highest dirty rate) = 3',
  );
  assert.match(parallelism(400, 0, 6).reason, /= 50, at most 4$/);
  assert.match(parallelism(5, 20, 6).reason, /= 0, at least 1$/);
  assert.equal(parallelism(undefined, 0, 3).parallel, 3);
  assert.deepEqual(parallelism(400, 0, 0), { parallel: 1, reason: 'nothing to move' });
});

void test('makespan: live moves share the link, offline ones do not; at most `parallel` at once', () => {
  const live = (ms: number) => ({ ms, live: true });
  assert.equal(makespanMs([live(1000), live(1000)], 1), 2000);
  // Two streams at once each go at half speed: the same total for the link …
  assert.equal(makespanMs([live(1000), live(1000)], 2), 2000);
  // … but a short move sharing with a long one: 2 × 500 + (1500 − 500) = 2000.
  assert.equal(makespanMs([live(500), live(1500)], 2), 2000);
  assert.equal(makespanMs([{ ms: 1000, live: false }, live(1000)], 2), 1000);
  assert.equal(makespanMs([], 4), 0);
});

void test('finishPlan orders moves, predicts each from the link and dirty rate, totals the makespan', () => {
  const input = fleet(
    [
      host('h1', 4096, [
        guest('big', 512),
        guest('small', 128),
        guest('noisy', 128),
        guest('off', 256, { state: 'shut off' }),
      ]),
      host('h2', 2048, []),
      host('h3', 2048, []),
    ],
    { linkMiBs: 100, dirty: { noisy: 20, big: 1 } },
  );
  const plan = finishPlan(input, planEvacuate(input, { host: 'h1' }), {
    id: 'p',
    createdAt: 'now',
  });
  assert.deepEqual(
    plan.moves.map((m) => `${m.order} ${m.guest} ${m.mode}`),
    ['1 off offline', '2 small live', '3 big live', '4 noisy live'],
  );
  assert.equal(plan.moves[0]?.predictedDowntimeMs, 0);
  const small = plan.moves[1];
  const noisy = plan.moves[3];
  assert.ok(small !== undefined && noisy !== undefined);
  assert.ok(noisy.predictedMs > small.predictedMs, 'a noisier guest of the same size takes longer');
  assert.equal(noisy.dirtyRateMiBs, 20);
  // 100 ÷ max(8, 40) = 2.
  assert.equal(plan.parallel, 2);
  assert.equal(
    plan.predictedMs,
    makespanMs(
      plan.moves.map((m) => ({ ms: m.predictedMs, live: m.mode === 'live' })),
      2,
    ),
  );
  assert.ok(plan.predictedMs < plan.moves.reduce((s, m) => s + m.predictedMs, 0));
  // h1 has the synthetic fleet's 2 CPUs: one memory stream at a time.
  assert.match(
    plan.parallelReason,
    /; memory streams at once per source host, one per 2 CPUs: h1 \(2 CPUs\) 1$/,
  );
  const h1 = plan.hosts.find((h) => h.host === 'h1');
  assert.ok(h1);
  assert.equal(h1.usedAfterKiB, 0);
  assert.equal(h1.vcpusBefore, 3);
  assert.equal(h1.vcpusAfter, 0);
});

void test('streamLimit: one memory stream per 2 CPUs of the source host, at least 1', () => {
  assert.equal(streamLimit(1), 1);
  assert.equal(streamLimit(2), 1);
  assert.equal(streamLimit(3), 1);
  assert.equal(streamLimit(8), 4);
  assert.equal(streamLimit(0), 1);
});
