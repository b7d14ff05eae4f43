import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Plan, PlannedMove, PlanProgress } from '../rpc/schema/fleet-plan.js';
import type { JobStats } from '../rpc/schema/migration.js';
import type { ReturnRecord } from './return-records.js';
import { PlanRun, PROGRESS_INTERVAL_MS, type MoveRunner, type RunClock } from './run-plan.js';

const MiB = 1024 * 1024;

function planOf(guests: string[], o: Partial<Plan> = {}): Plan {
  const moves: PlannedMove[] = guests.map((guest, i) => ({
    order: i + 1,
    guest,
    uuid: `uuid-${guest}`,
    from: 'h1',
    to: i % 2 === 0 ? 'h2' : 'h3',
    mode: 'live',
    memoryKiB: 128 * 1024,
    dirtyRateMiBs: 0,
    predictedMs: 1000,
    predictedDowntimeMs: 50,
    reasons: [],
  }));
  return {
    id: 'plan-1',
    kind: 'evacuate',
    title: 'evacuate h1',
    createdAt: '2026-11-27T16:00:00Z',
    moves,
    unmovable: [],
    hosts: [],
    parallel: 2,
    parallelReason: 'test',
    predictedMs: 1000,
    summary: [],
    ...o,
  };
}

interface Pending {
  guest: string;
  progress: (stats: JobStats) => void;
  succeed: (downtimeMs?: number) => void;
  fail: (why: string) => void;
}

/** A move runner whose moves end when the test says; records the order moves start in. */
function fakeMoves(): { runMove: MoveRunner; started: string[]; pending: Map<string, Pending> } {
  const started: string[] = [];
  const pending = new Map<string, Pending>();
  const runMove: MoveRunner = (move, onProgress) =>
    new Promise((resolve, reject) => {
      started.push(move.guest);
      pending.set(move.guest, {
        guest: move.guest,
        progress: onProgress,
        succeed: (downtimeMs) => {
          pending.delete(move.guest);
          resolve({ downtimeMs });
        },
        fail: (why) => {
          pending.delete(move.guest);
          reject(new Error(why));
        },
      });
    });
  return { runMove, started, pending };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function settle(fake: ReturnType<typeof fakeMoves>, guest: string, ok = true): Promise<void> {
  const p = fake.pending.get(guest);
  assert.ok(p, `${guest} is running (running: ${[...fake.pending.keys()].join(', ')})`);
  if (ok) p.succeed(10);
  else p.fail(`${guest} exploded`);
  await tick();
}

function states(progress: PlanProgress): string {
  return progress.moves.map((m) => `${m.guest}:${m.state}`).join(' ');
}

void test('moves start in order, never more than plan.parallel at once', async () => {
  const fake = fakeMoves();
  // Given out of order: `order` decides.
  const plan = planOf(['a', 'b', 'c', 'd', 'e']);
  plan.moves.reverse();
  const run = new PlanRun({ plan, runMove: fake.runMove });
  const done = run.start();
  await tick();
  assert.deepEqual(fake.started, ['a', 'b']);
  assert.equal(run.running, 2);
  await settle(fake, 'b');
  assert.deepEqual(fake.started, ['a', 'b', 'c']);
  assert.equal(fake.pending.size, 2);
  await settle(fake, 'a');
  await settle(fake, 'c');
  assert.deepEqual(fake.started, ['a', 'b', 'c', 'd', 'e']);
  await settle(fake, 'd');
  await settle(fake, 'e');
  const final = await done;
  assert.equal(final.finished, true);
  assert.equal(final.overallPercent, 100);
  assert.equal(final.stoppedBecause, undefined);
  assert.equal(states(final), 'a:completed b:completed c:completed d:completed e:completed');
  assert.equal(final.moves[0]?.downtimeMs, 10);
});

void test('the first failure stops scheduling: the one under way finishes, the rest are skipped', async () => {
  const fake = fakeMoves();
  const run = new PlanRun({ plan: planOf(['a', 'b', 'c', 'd']), runMove: fake.runMove });
  const done = run.start();
  await tick();
  await settle(fake, 'a', false);
  assert.deepEqual(fake.started, ['a', 'b'], 'nothing new starts after the failure');
  await settle(fake, 'b');
  const final = await done;
  assert.equal(states(final), 'a:failed b:completed c:skipped d:skipped');
  assert.equal(final.stoppedBecause, 'moving a failed: a exploded');
  assert.equal(final.moves[0]?.error, 'a exploded');
  // Only b's bytes count: it is all done.
  assert.equal(final.overallPercent, 100);
});

void test('keepGoing: a failure does not stop the others', async () => {
  const fake = fakeMoves();
  const run = new PlanRun({
    plan: planOf(['a', 'b', 'c']),
    runMove: fake.runMove,
    keepGoing: true,
  });
  const done = run.start();
  await tick();
  await settle(fake, 'a', false);
  assert.deepEqual(fake.started, ['a', 'b', 'c']);
  await settle(fake, 'b');
  await settle(fake, 'c', false);
  const final = await done;
  assert.equal(states(final), 'a:failed b:completed c:failed');
  assert.equal(final.stoppedBecause, undefined);
});

void test('stop(): no new moves, those under way finish; the first reason is kept', async () => {
  const fake = fakeMoves();
  const sent: PlanProgress[] = [];
  const run = new PlanRun({
    plan: planOf(['a', 'b', 'c']),
    runMove: fake.runMove,
    onProgress: (p) => sent.push(p),
  });
  const done = run.start();
  await tick();
  assert.equal(run.stop('stopped by fleet.stop'), 2);
  assert.equal(run.stop('the connection closed'), 2);
  await settle(fake, 'a');
  await settle(fake, 'b', false);
  const final = await done;
  assert.deepEqual(fake.started, ['a', 'b']);
  assert.equal(states(final), 'a:completed b:failed c:skipped');
  assert.equal(final.stoppedBecause, 'stopped by fleet.stop');
  assert.equal(sent.at(-1)?.finished, true, 'the final progress is sent');
  assert.equal(run.stop('late'), 0);
});

void test('an empty plan finishes at once', async () => {
  const run = new PlanRun({ plan: planOf([]), runMove: () => Promise.reject(new Error('no')) });
  const final = await run.start();
  assert.equal(final.finished, true);
  assert.deepEqual(final.moves, []);
});

void test('records: evacuations with record add, undo removes, failed moves leave them', async () => {
  const log: string[] = [];
  const returns = {
    add: (r: ReturnRecord) => {
      log.push(`add ${r.guest} ${r.host}->${r.to} ${r.uuid}`);
      return Promise.resolve();
    },
    remove: (uuid: string) => {
      log.push(`remove ${uuid}`);
      return Promise.resolve();
    },
  };
  const fake = fakeMoves();
  const evacuation = new PlanRun({
    plan: planOf(['a', 'b']),
    runMove: fake.runMove,
    record: true,
    returns,
    keepGoing: true,
  }).start();
  await tick();
  await settle(fake, 'a');
  await settle(fake, 'b', false);
  await evacuation;
  assert.deepEqual(log, ['add a h1->h2 uuid-a']);

  log.length = 0;
  const unrecorded = new PlanRun({ plan: planOf(['a']), runMove: fake.runMove, returns }).start();
  await tick();
  await settle(fake, 'a');
  await unrecorded;
  assert.deepEqual(log, [], 'without record nothing is written');

  const undo = new PlanRun({
    plan: planOf(['a', 'b'], { kind: 'undo' }),
    runMove: fake.runMove,
    returns,
    keepGoing: true,
  }).start();
  await tick();
  await settle(fake, 'a', false);
  await settle(fake, 'b');
  await undo;
  assert.deepEqual(log, ['remove uuid-b']);
});

void test('a record that cannot be written is reported on the completed move', async () => {
  const fake = fakeMoves();
  const run = new PlanRun({
    plan: planOf(['a', 'b'], { parallel: 1 }),
    runMove: fake.runMove,
    record: true,
    returns: { add: () => Promise.reject(new Error('disk full')), remove: () => Promise.resolve() },
  });
  const done = run.start();
  await tick();
  await settle(fake, 'a');
  await settle(fake, 'b');
  const final = await done;
  assert.equal(states(final), 'a:completed b:completed');
  assert.match(final.moves[0]?.error ?? '', /not recorded: disk full/);
});

/** A clock the test moves by hand. */
function manualClock(): RunClock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      timers = timers.filter((t) => t !== handle);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

function sample(processedMiB: number, remainingMiB: number, rateMiBs = 10): JobStats {
  return {
    type: 'Unbounded',
    status: 'active',
    dataProcessed: processedMiB * MiB,
    dataRemaining: remainingMiB * MiB,
    dataTotal: 128 * MiB,
    memoryBandwidth: rateMiBs * MiB,
    dirtyRate: 0,
    iteration: 1,
  };
}

void test('progress: folded per move, overall by bytes, at most one notification per interval', async () => {
  const fake = fakeMoves();
  const clock = manualClock();
  const sent: PlanProgress[] = [];
  const plan = planOf(['a', 'b'], { parallel: 1 });
  const first = plan.moves[0];
  if (first) first.memoryKiB = 384 * 1024; // a weighs 3× b
  const run = new PlanRun({ plan, runMove: fake.runMove, clock, onProgress: (p) => sent.push(p) });
  const done = run.start();
  await tick();
  assert.equal(sent.length, 1, 'the start is sent');
  const a = fake.pending.get('a');
  assert.ok(a);
  for (let i = 1; i <= 9; i++) a.progress(sample(i * 10, 100 - i * 10));
  assert.equal(sent.length, 1, 'samples within the interval wait');
  clock.advance(PROGRESS_INTERVAL_MS);
  assert.equal(sent.length, 2, 'one trailing notification carries the latest');
  const latest = sent[1]?.moves[0];
  assert.ok(latest);
  assert.equal(latest.percent, 90);
  assert.equal(latest.etaMs, 1000, '10 MiB left at 10 MiB/s');
  a.progress(sample(60, 40));
  clock.advance(PROGRESS_INTERVAL_MS);
  const later = sent.at(-1);
  assert.ok(later);
  assert.equal(later.moves[0]?.percent, 90, 'a later pass does not move the bar back');
  assert.equal(later.moves[0].etaMs, 4000, '40 MiB left at 10 MiB/s');
  // 3/4 of the bytes at 90 %.
  assert.equal(later.overallPercent, 67);
  // a's 4 s, then b's predicted 1 s on the one slot.
  assert.equal(later.overallEtaMs, 5000);
  await settle(fake, 'a');
  clock.advance(PROGRESS_INTERVAL_MS);
  await settle(fake, 'b');
  const final = await done;
  assert.equal(final.overallPercent, 100);
  assert.equal(final.overallEtaMs, 0);
  assert.equal(sent.at(-1)?.finished, true);
  for (let i = 2; i < sent.length - 1; i++) {
    const gap = (sent[i]?.elapsedMs ?? 0) - (sent[i - 1]?.elapsedMs ?? 0);
    assert.ok(gap >= PROGRESS_INTERVAL_MS, `notifications ${i - 1} and ${i} are ${gap} ms apart`);
  }
});
