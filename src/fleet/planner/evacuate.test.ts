import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetState, needKiB } from './fleet-state.js';
import { planEvacuate } from './evacuate.js';
import { finishPlan } from './finish.js';
import { headroomKiB } from './headroom.js';
import { planUndo } from './undo.js';
import { fleet, guest, host } from './synthetic-fleet.js';

const META = { id: 'p1', createdAt: '2026-11-27T00:00:00Z' };

void test('evacuate spreads: largest first, each to the target with the most room left after it', () => {
  const input = fleet([
    host('h1', 4096, [guest('a', 512), guest('b', 256), guest('c', 256), guest('d', 128)]),
    host('h2', 2048, []),
    host('h3', 2048, []),
  ]);
  const draft = planEvacuate(input, { host: 'h1' });
  assert.deepEqual(
    draft.moves.map((m) => `${m.guest.name}→${m.to}`),
    ['a→h2', 'b→h3', 'c→h3', 'd→h2'],
  );
  assert.equal(draft.unmovable.length, 0);
  assert.match(
    draft.moves[0]?.reasons[0] ?? '',
    /^most room left: [\d.]+ [MG]iB free after it \(headroom 205 MiB\)$/,
  );
  assert.ok(draft.moves[0]?.reasons.some((r) => /^not h3: [\d.]+ [MG]iB free after it$/.test(r)));
  // Spread: neither target gets everything.
  const plan = finishPlan(input, draft, META);
  const after = new Map(plan.hosts.map((h) => [h.host, h]));
  assert.equal(after.get('h1')?.usedAfterKiB, 0);
  assert.ok((after.get('h2')?.usedAfterKiB ?? 0) > 0 && (after.get('h3')?.usedAfterKiB ?? 0) > 0);
});

void test('evacuate never goes over memory: headroom kept, the guest that fits nowhere stays with why', () => {
  const input = fleet([
    host('h1', 4096, [guest('big', 1024), guest('small', 128)]),
    host('h2', 1024, []),
    host('h3', 1024, []),
  ]);
  const draft = planEvacuate(input, { host: 'h1' });
  assert.deepEqual(
    draft.moves.map((m) => m.guest.name),
    ['small'],
  );
  assert.equal(draft.unmovable.length, 1);
  assert.equal(draft.unmovable[0]?.guest, 'big');
  assert.match(
    draft.unmovable[0].reason,
    /^memory: would leave -\d+ MiB free, below its headroom 128 MiB$/,
  );
  const state = FleetState.from(input.hosts);
  for (const m of draft.moves) state.move(m.guest, m.from, m.to);
  for (const h of state.hosts.values())
    if (h.name !== 'h1') assert.ok(h.offeredKiB - h.usedKiB >= headroomKiB(h.offeredKiB));
});

void test('evacuate: an incompatible guest is unmovable with the preflight reason; busy and shut-off guests', () => {
  const cpu = 'cpu: the destination lacks avx512f';
  const input = fleet(
    [
      host('h1', 4096, [
        guest('pinned', 128),
        guest('stopped', 512, { state: 'shut off' }),
        guest('held', 128, { busy: true }),
        guest('ok', 128),
      ]),
      host('h2', 1024, []),
      host('h3', 1024, []),
    ],
    { refuse: { pinned: { h2: cpu, h3: cpu }, ok: { h2: 'devices: hostdev' } } },
  );
  const draft = planEvacuate(input, { host: 'h1' });
  assert.deepEqual(
    draft.moves.map((m) => `${m.guest.name}→${m.to} ${m.mode}`),
    ['ok→h3 live', 'stopped→h2 offline'],
  );
  assert.deepEqual(
    draft.unmovable.map((u) => `${u.guest}: ${u.reason}`),
    ['held: busy: a job holds it', `pinned: ${cpu}`],
  );
  assert.ok(draft.moves[0]?.reasons.includes('not h2: devices: hostdev'));
  assert.match(draft.moves[1]?.reasons[0] ?? '', /shut off, moves offline .* takes no memory/);
  assert.match(draft.summary[0] ?? '', /^2 of 4 guests leave h1; 2 cannot move and stay$/);
});

void test('evacuate --to: only the named targets; differing reasons are each named', () => {
  const input = fleet(
    [host('h1', 4096, [guest('a', 128)]), host('h2', 1024, []), host('h3', 1024, [])],
    { refuse: { a: { h2: 'cpu: x', h3: 'machine: y' } } },
  );
  assert.deepEqual(
    planEvacuate(input, { host: 'h1', to: ['h3'] }).unmovable.map((u) => u.reason),
    ['machine: y'],
  );
  assert.deepEqual(
    planEvacuate(input, { host: 'h1' }).unmovable.map((u) => u.reason),
    ['h2: cpu: x; h3: machine: y'],
  );
});

void test('undo brings back what is still where the evacuation put it; others are named and left', () => {
  const a = guest('a', 128);
  const b = guest('b', 128);
  const c = guest('c', 128);
  const input = fleet([host('h1', 2048, []), host('h2', 2048, [a, c]), host('h3', 2048, [b])]);
  const draft = planUndo(input, {
    host: 'h1',
    records: [
      { host: 'h1', guest: 'a', uuid: a.uuid, to: 'h2' },
      { host: 'h1', guest: 'b', uuid: b.uuid, to: 'h2' },
      { host: 'h1', guest: 'gone', uuid: 'uuid-gone', to: 'h2' },
    ],
  });
  assert.deepEqual(
    draft.moves.map((m) => `${m.guest.name} ${m.from}→${m.to}`),
    ['a h2→h1'],
  );
  assert.deepEqual(draft.summary, [
    '1 of 3 recorded guests return to h1',
    'b: on h3, not h2 where the evacuation put it; left',
    'gone: not found on any member; left',
  ]);
  assert.equal(draft.kind, 'undo');
});

void test('needKiB: a shut-off guest takes no memory', () => {
  assert.equal(needKiB(guest('x', 128, { state: 'shut off' })), 0);
  assert.ok(needKiB(guest('x', 128)) > 128 * 1024);
});
