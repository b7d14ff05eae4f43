import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConnectionUri } from '../../common/uri.js';
import type { Plan, PlanProgress } from '../../rpc/schema/fleet-plan.js';
import type { Connection } from '../connection.js';
import type { CommandContext } from '../context.js';
import { runPlan, summaryLines, type PlanRunIo } from './fleet-run.js';

const plan: Plan = {
  id: 'p1',
  kind: 'evacuate',
  title: 'evacuate h1',
  createdAt: '2026-11-27T16:00:00Z',
  moves: ['a', 'b', 'c'].map((guest, i) => ({
    order: i + 1,
    guest,
    uuid: `u-${guest}`,
    from: 'h1',
    to: 'h2',
    mode: 'live' as const,
    memoryKiB: 131072,
    dirtyRateMiBs: 0,
    predictedMs: 1000,
    predictedDowntimeMs: 30,
    reasons: [],
  })),
  unmovable: [{ guest: 'pinned', host: 'h1', reason: 'hostdev: …' }],
  hosts: [],
  parallel: 1,
  parallelReason: 'test',
  predictedMs: 3000,
  summary: [],
};

function progress(
  states: PlanProgress['moves'][number]['state'][],
  o: Partial<PlanProgress> = {},
): PlanProgress {
  return {
    planId: 'p1',
    moves: plan.moves.map((m, i) => ({
      order: m.order,
      guest: m.guest,
      from: m.from,
      to: m.to,
      state: states[i] ?? 'pending',
      percent: states[i] === 'completed' ? 100 : 0,
      ...(states[i] === 'completed' ? { elapsedMs: 2000, downtimeMs: 40 } : {}),
      ...(states[i] === 'failed' ? { error: 'Domain exists' } : {}),
    })),
    overallPercent: 0,
    elapsedMs: 4321,
    finished: false,
    ...o,
  };
}

/** A ferryd that runs the plan as the test says, and a CLI context around it. */
function harness(run: (notify: (p: PlanProgress) => void) => Promise<PlanProgress>) {
  const calls: string[] = [];
  const listeners = new Set<(p: unknown) => void>();
  const notify = (p: PlanProgress): void => {
    for (const l of listeners) l(p);
  };
  const conn: Connection = {
    uri: parseConnectionUri('qemu:///system'),
    call: async (name, params) => {
      calls.push(`${name} ${JSON.stringify(params)}`);
      if (name === 'fleet.run') return (await run(notify)) as never;
      if (name === 'fleet.stop') return { planId: 'p1', running: 1 } as never;
      throw new Error(`unexpected call ${name}`);
    },
    onNotification: (_method, cb) => {
      const l = cb as (p: unknown) => void;
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: () => undefined,
  };
  const out: string[] = [];
  const ctx: CommandContext = {
    uri: 'qemu:///system',
    connect: () => Promise.resolve(conn),
    out: (t) => out.push(t),
    err: (t) => out.push(t),
  };
  let interrupt: () => void = () => undefined;
  const io: PlanRunIo = {
    stdoutIsTTY: false,
    stdout: process.stdout,
    onInterrupt: (cb) => {
      interrupt = cb;
      return () => (interrupt = () => undefined);
    },
  };
  return { ctx, io, calls, out, interrupt: () => interrupt() };
}

void test('runPlan: plain lines as moves change state, then the summary', async () => {
  const h = harness((notify) => {
    notify(progress(['running']));
    notify(progress(['running']));
    notify(progress(['completed', 'running']));
    notify({ ...progress(['completed', 'running']), planId: 'another plan' });
    return Promise.resolve(progress(['completed', 'completed', 'completed'], { finished: true }));
  });
  const result = await runPlan(h.ctx, plan, { keepGoing: true, record: true }, h.io);
  assert.equal(result.finished, true);
  assert.deepEqual(h.calls, ['fleet.run {"planId":"p1","keepGoing":true,"record":true}']);
  assert.equal(
    h.out.join(''),
    [
      '[1/3] a h1 \u2192 h2: started',
      '[1/3] a h1 \u2192 h2: completed in 2.0 s (downtime 40 ms)',
      '[2/3] b h1 \u2192 h2: started',
      '[2/3] b h1 \u2192 h2: completed in 2.0 s (downtime 40 ms)',
      '[3/3] c h1 \u2192 h2: completed in 2.0 s (downtime 40 ms)',
      'Evacuated h1: 3 moved, 0 failed, 1 left in place in 4.3 s',
      '',
    ].join('\n'),
  );
});

void test('runPlan: Ctrl-C once asks fleet.stop; a failed move fails the command', async () => {
  let finish: (p: PlanProgress) => void = () => undefined;
  const h = harness((notify) => {
    notify(progress(['running']));
    return new Promise((resolve) => (finish = resolve));
  });
  const running = runPlan(h.ctx, plan, { keepGoing: false, record: false }, h.io);
  await new Promise((r) => setImmediate(r));
  h.interrupt();
  await new Promise((r) => setImmediate(r));
  assert.equal(h.calls[1], 'fleet.stop {"planId":"p1"}');
  finish(
    progress(['failed', 'skipped', 'skipped'], {
      finished: true,
      stoppedBecause: 'asked to stop (fleet.stop)',
    }),
  );
  await assert.rejects(running, {
    code: 'OPERATION_FAILED',
    message: 'moving a h1 \u2192 h2 failed: Domain exists',
  });
  const text = h.out.join('');
  assert.match(text, /stopping: no new moves; 1 under way finish or roll back/);
  assert.match(text, /\[1\/3\] a h1 → h2: failed: Domain exists\n/);
  assert.match(text, /\[3\/3\] c h1 → h2: skipped\n/);
  assert.match(
    text,
    /Stopped: asked to stop \(fleet\.stop\)\nEvacuated h1: 0 moved, 1 failed, 3 left in place in 4\.3 s\n$/,
  );
});

void test('runPlan: a second Ctrl-C stops waiting', async () => {
  const h = harness(() => new Promise<never>(() => undefined));
  const running = runPlan(h.ctx, plan, { keepGoing: false, record: false }, h.io);
  await new Promise((r) => setImmediate(r));
  h.interrupt();
  h.interrupt();
  await assert.rejects(running, /not waiting for the moves under way/);
});

void test('summaryLines names the kind of plan', () => {
  const done = progress(['completed', 'completed', 'completed'], { finished: true });
  assert.match(summaryLines({ ...plan, kind: 'undo' }, done), /^Brought back to h2: 3 moved/);
  assert.match(summaryLines({ ...plan, kind: 'balance' }, done), /^Balanced: 3 moved/);
  assert.match(summaryLines({ ...plan, kind: 'consolidate' }, done), /^Consolidated: 3 moved/);
});
