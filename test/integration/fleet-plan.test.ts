/**
 * Fleet plans on a 3-host testbed (each ferryd offering 1 GiB with host_memory_mib): the
 * fleet's members (add/list/remove), their capacity, and the evacuate, balance and
 * consolidate plans — shown, never carried out: nothing moves.
 * @module
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryNeeded } from '../../src/preflight/memory.js';
import type { FleetMember, Plan } from '../../src/rpc/schema/fleet-plan.js';
import type { TestbedHost } from '../../src/testbed/index.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { useTestbed } from '../helpers/testbed.js';

const OFFERED_MIB = 1024;
const HOSTDEV = `
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'/></source>
    </hostdev>`;

interface MembersJson {
  members: FleetMember[];
  unreachable: { id: string; uri: string; error: string }[];
}

void test('fleet plans: members, capacity, evacuate / balance / consolidate shown and nothing moved', async (t) => {
  const tb = await useTestbed(t, { hosts: 3, extraConfig: `host_memory_mib = ${OFFERED_MIB}\n` });
  const [h1, h2, h3] = tb.hosts as [TestbedHost, TestbedHost, TestbedHost];
  const members = async (): Promise<MembersJson> =>
    JSON.parse(await h1.ferryOk('fleet', 'list', '--json')) as MembersJson;

  // A bad URI is refused and stores nothing.
  const bad = await h1.ferry('fleet', 'add', 'not a uri');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: /);
  assert.deepEqual(await members(), { members: [], unreachable: [] });

  // Every host, this one included by its network URI (listed once, as 'local').
  const added = await h1.ferryOk('fleet', 'add', h1.tcpUri, h2.tcpUri, h3.tcpUri);
  assert.match(
    added,
    /^Host h1 added to the fleet \(qemu\+tcp:\/\/h1\/system, id h[0-9a-f]{10}\)$/m,
  );

  // Guests: two running on h1, one on h2; on h1 a persistent shut-off one and one that
  // cannot move (a PCI hostdev: the preflight's devices check fails).
  await startGuestOn(t, h1, { name: 'small', hbMs: 1000 });
  await startGuestOn(t, h1, { name: 'noisy', hbMs: 1000, dirtyMiB: 8, dirtyRate: 4 });
  await startGuestOn(t, h1, { name: 'stopped' }, false);
  await startGuestOn(t, h1, { name: 'pinned', extraDevices: HOSTDEV }, false);
  await startGuestOn(t, h2, { name: 'other', hbMs: 1000 });
  const before = await Promise.all(tb.hosts.map((h) => listOf(h)));

  const fleet = await members();
  assert.deepEqual(
    fleet.members.map((m) => [m.capacity.hostname, m.uri]),
    [
      ['h1', h1.tcpUri],
      ['h2', h2.tcpUri],
      ['h3', h3.tcpUri],
    ],
  );
  const [self] = fleet.members;
  assert.ok(self !== undefined);
  assert.equal(self.id, 'local');
  const cap1 = self.capacity;
  assert.equal(cap1.memoryKiB, OFFERED_MIB * 1024);
  const noisyMiB = 8 + 128;
  const used = memoryNeeded(128 * 1024 * 1024) + memoryNeeded(noisyMiB * 1024 * 1024);
  assert.equal(cap1.freeMemoryKiB, Math.floor((OFFERED_MIB * 1024 * 1024 - used) / 1024));
  assert.ok(cap1.cpus >= 1 && cap1.cpuModel !== '');
  assert.deepEqual(cap1.guests.map((g) => [g.name, g.state, g.persistent, g.busy]).sort(), [
    ['noisy', 'running', true, false],
    ['pinned', 'shut off', true, false],
    ['small', 'running', true, false],
    ['stopped', 'shut off', true, false],
  ]);
  assert.equal(fleet.members[2]?.capacity.freeMemoryKiB, OFFERED_MIB * 1024);
  const table = await h1.ferryOk('fleet', 'list');
  assert.match(table, /^ Host +URI +CPUs +Load +Memory +Free +CPU model +Guests/);
  assert.match(
    table,
    /^ h1 +qemu\+tcp:\/\/h1\/system +\d+ +[\d.]+ +1 GiB +\d+ MiB +\S.* +2 running, 2 shut off$/m,
  );

  // Evacuate h1: the running guests spread over h2 and h3, the shut-off one moves offline,
  // the hostdev guest is named with the reason.
  const plan = JSON.parse(await h1.ferryOk('evacuate', 'h1', '--json')) as Plan;
  const to = new Map(plan.moves.map((m) => [m.guest, m]));
  assert.deepEqual([...to.keys()].sort(), ['noisy', 'small', 'stopped']);
  assert.equal(to.get('stopped')?.mode, 'offline');
  assert.equal(to.get('small')?.mode, 'live');
  assert.notEqual(to.get('small')?.to, to.get('noisy')?.to, 'spread, not stacked');
  assert.ok(plan.moves.every((m) => m.from === 'h1' && m.to !== 'h1'));
  assert.equal(plan.unmovable.length, 1);
  const [pinned] = plan.unmovable;
  assert.ok(pinned !== undefined);
  assert.equal(pinned.guest, 'pinned');
  assert.match(pinned.reason, /^devices: .*hostdev pci 0000:3b:00\.1/);
  assert.match(to.get('small')?.reasons[0] ?? '', /^most room left: \d+ MiB free after it/);
  assert.ok(plan.parallel >= 1 && plan.parallel <= 4);
  assert.match(
    plan.parallelReason,
    /^link \d+ MiB\/s ÷ max\(8, 2 × [\d.]+ MiB\/s highest dirty rate\)/,
  );
  assert.ok((to.get('noisy')?.dirtyRateMiBs ?? 0) > 0, 'the dirty rate was measured');
  for (const h of plan.hosts) assert.ok(h.usedAfterKiB <= h.memoryKiB, `${h.host} within memory`);
  const asked = performance.now();
  const text = await h1.ferryOk('evacuate', 'h1');
  t.diagnostic(`evacuate h1 planned in ${Math.round(performance.now() - asked)} ms:\n${text}`);
  assert.match(text, /^Plan: evacuate h1 — 3 moves \(plan /);
  assert.match(text, /^Cannot move:\n {2}pinned \(on h1\): devices: /m);
  assert.match(text, /^Predicted total: [\d.]+ s$/m);
  assert.match(text, /Dry run: nothing was moved\. Run again with --execute to carry it out\.\n$/);
  // --to by URI: only that target.
  const onlyH3 = JSON.parse(
    await h1.ferryOk('evacuate', 'h1', '--to', h3.tcpUri, '--json'),
  ) as Plan;
  assert.ok(onlyH3.moves.length > 0 && onlyH3.moves.every((m) => m.to === 'h3'));

  // Balance the skewed fleet (h1 two guests, h2 one, h3 none): one move reaches the spread it states.
  const balance = JSON.parse(await h1.ferryOk('balance', '--json')) as Plan;
  const stated = /^Spread (\d+) % → (\d+) % \(memory used \/ offered\) with (\d+) moves?/.exec(
    balance.summary[0] ?? '',
  );
  assert.ok(stated, balance.summary.join('\n'));
  assert.equal(Number(stated[3]), balance.moves.length);
  assert.equal(balance.moves.length, 1);
  const [move] = balance.moves;
  assert.ok(move !== undefined);
  assert.equal(move.from, 'h1');
  assert.equal(move.to, 'h3');
  const share = balance.hosts.map((h) => h.usedAfterKiB / h.memoryKiB);
  assert.equal(Math.round((Math.max(...share) - Math.min(...share)) * 100), Number(stated[2]));

  // Consolidate: h2 (least used) empties onto h1; h3 is empty already.
  const consolidate = JSON.parse(await h1.ferryOk('consolidate', '--json')) as Plan;
  assert.deepEqual(
    consolidate.moves.map((m) => `${m.guest} ${m.from}→${m.to}`),
    ['other h2→h1'],
  );
  assert.match(consolidate.summary[0] ?? '', /^Hosts emptied: h2 /);
  assert.equal(consolidate.summary[1], '2 of 3 hosts can be powered off (h3 already empty)');
  const keep3 = await h1.ferryOk('consolidate', '--keep', '3');
  assert.match(keep3, /No moves\./);

  // Dry runs: every guest where it was, nothing recorded.
  assert.deepEqual(await Promise.all(tb.hosts.map((h) => listOf(h))), before);
  assert.equal(existsSync(join(h1.paths.stateDir, 'fleet-returns.json')), false);

  // Remove by host name; an unknown name removes nothing.
  const unknown = await h1.ferry('fleet', 'remove', 'h3', 'nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: No fleet host 'nope'/);
  assert.equal((await members()).members.length, 3);
  await h1.ferryOk('fleet', 'remove', 'h3');
  assert.deepEqual(
    (await members()).members.map((m) => m.capacity.hostname),
    ['h1', 'h2'],
  );
});
