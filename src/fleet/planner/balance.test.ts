import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planBalance } from './balance.js';
import { planConsolidate } from './consolidate.js';
import { FleetState } from './fleet-state.js';
import { headroomKiB } from './headroom.js';
import { fleet, guest, host } from './synthetic-fleet.js';
import type { Draft, PlannerInput } from './types.js';

function apply(input: PlannerInput, draft: Draft): FleetState {
  const state = FleetState.from(input.hosts);
  for (const m of draft.moves) state.move(m.guest, m.from, m.to);
  return state;
}

void test('balance reaches the stated spread with the fewest moves: the move that lowers it most first', () => {
  // h1 holds everything; one 512 MiB guest to each empty host evens it out best.
  const input = fleet([
    host('h1', 2048, [guest('a', 512), guest('b', 512), guest('c', 128), guest('d', 128)]),
    host('h2', 2048, []),
    host('h3', 2048, []),
  ]);
  const draft = planBalance(input, {});
  const state = apply(input, draft);
  assert.deepEqual(draft.moves.map((m) => m.guest.name).sort(), ['a', 'b']);
  assert.notEqual(draft.moves[0]?.to, draft.moves[1]?.to);
  const stated = /^Spread (\d+) % → (\d+) % \(memory used \/ offered\) with (\d+) moves/.exec(
    draft.summary[0] ?? '',
  );
  assert.ok(stated, draft.summary[0]);
  assert.equal(Number(stated[2]), Math.round(state.spread().memory * 100));
  assert.equal(Number(stated[3]), draft.moves.length);
  assert.match(
    draft.moves[0]?.reasons[0] ?? '',
    /^spread \d+ % → \d+ % \(memory used \/ offered\)$/,
  );
  for (const h of state.hosts.values())
    assert.ok(
      h.offeredKiB - h.usedKiB >= headroomKiB(h.offeredKiB),
      `${h.name} keeps its headroom`,
    );
});

void test('balance stops when no move gains 5 points, and at --max-moves', () => {
  const even = fleet([
    host('h1', 2048, [guest('a', 256)]),
    host('h2', 2048, [guest('b', 256)]),
    host('h3', 2048, [guest('c', 192)]),
  ]);
  const none = planBalance(even, {});
  assert.equal(none.moves.length, 0);
  assert.match(none.summary[0] ?? '', /no move lowers it by 5 % or more; nothing to move/);
  const skewed = fleet([
    host('h1', 2048, [guest('a', 512), guest('b', 512), guest('c', 128)]),
    host('h2', 2048, []),
    host('h3', 2048, []),
  ]);
  const one = planBalance(skewed, { maxMoves: 1 });
  assert.equal(one.moves.length, 1);
  assert.ok(one.summary.includes('Stopped at --max-moves 1'));
  assert.equal(one.title, 'balance (at most 1 move)');
});

void test('balance leaves busy, shut-off and incompatible guests where they are', () => {
  const input = fleet(
    [
      host('h1', 2048, [
        guest('held', 512, { busy: true }),
        guest('off', 512, { state: 'shut off' }),
        guest('pinned', 512),
      ]),
      host('h2', 2048, []),
    ],
    { refuse: { pinned: { h2: 'cpu: no' } } },
  );
  const draft = planBalance(input, {});
  assert.equal(draft.moves.length, 0);
  assert.ok(draft.summary.includes('Left alone (a job holds them): held'));
});

void test('consolidate empties the least-used hosts best-fit, keeps --keep hosts in use', () => {
  const input = fleet([
    host('h1', 2048, [guest('a', 512), guest('b', 256)]),
    host('h2', 2048, [guest('c', 128)]),
    host('h3', 2048, [guest('d', 256)]),
  ]);
  const draft = planConsolidate(input, {});
  const state = apply(input, draft);
  const empty = [...state.hosts.values()].filter((h) => h.guests.length === 0).map((h) => h.name);
  assert.deepEqual(empty.sort(), ['h2', 'h3']);
  assert.ok(
    draft.moves.every((m) => m.to === 'h1'),
    'best fit: onto the fullest host',
  );
  assert.match(draft.summary[0] ?? '', /^Hosts emptied: h2, h3 /);
  assert.equal(draft.summary[1], '2 of 3 hosts can be powered off');
  assert.match(draft.moves[0]?.reasons[0] ?? '', /^best fit: /);

  const keep2 = planConsolidate(input, { keep: 2 });
  assert.deepEqual(
    keep2.moves.map((m) => m.guest.name),
    ['c'],
  );
  assert.equal(keep2.summary[1], '1 of 3 hosts can be powered off');
  for (const h of state.hosts.values())
    assert.ok(h.offeredKiB - h.usedKiB >= headroomKiB(h.offeredKiB));
});

void test('consolidate empties a host only when all its guests can go', () => {
  const input = fleet(
    [
      host('h1', 1024, [guest('a', 512)]),
      host('h2', 2048, [guest('b', 640)]),
      host('h3', 4096, [guest('c', 128), guest('pinned', 128)]),
    ],
    { refuse: { pinned: { h1: 'cpu: x', h2: 'cpu: x' } } },
  );
  const draft = planConsolidate(input, {});
  // h3 (least used) cannot be emptied: pinned stays there; h2 then h1 go onto it (h1 has no
  // room for b, h2 none left for a once h2 is being emptied).
  assert.ok(draft.summary.includes('h3 stays in use: pinned cannot go (cpu: x)'));
  assert.deepEqual(
    draft.moves.map((m) => `${m.guest.name}→${m.to}`),
    ['b→h3', 'a→h3'],
  );
  assert.match(draft.summary[0] ?? '', /^Hosts emptied: h2, h1 /);
  assert.equal(draft.summary[1], '2 of 3 hosts can be powered off');
});

void test('consolidate counts hosts already empty and says when nothing can be emptied', () => {
  const input = fleet([host('h1', 1024, [guest('a', 512)]), host('h2', 1024, [])]);
  const draft = planConsolidate(input, {});
  assert.equal(draft.moves.length, 0);
  assert.deepEqual(draft.summary, [
    'No host can be emptied (keeping at least 1 in use)',
    '1 of 2 hosts can be powered off (h2 already empty)',
  ]);
});
