/**
 * Fleet plans carried out on a three-host testbed with real guests: an evacuation with
 * --return (live and offline moves, a guest no target can run left in place and named), its
 * undo, a failure in the middle of a plan stopping it cleanly, and balance and consolidate
 * reaching what their plans state. h1's ferryd coordinates; it is a fleet member by its own
 * network URI, so moves off h1 run in its process and moves off h2/h3 are asked of theirs.
 * h2 and h3 offer 1024 MiB and run at most a Nehalem CPU (cpu_limit), so a Westmere guest
 * cannot leave h1.
 * @module
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openConnection, type Connection } from '../../src/cli/connection.js';
import type { Testbed, TestbedHost } from '../../src/testbed/index.js';
import type { HostCapacity } from '../../src/rpc/schema/fleet-plan.js';
import { guestXml } from '../helpers/guest.js';
import { assertOneLife, keepsBeating } from '../helpers/migration.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { FERRY_BIN } from '../../src/testbed/ferryd.js';
import { useTestbed } from '../helpers/testbed.js';

const cpu = (model: string): string =>
  `\n  <cpu mode='custom' match='exact'><model fallback='forbid'>${model}</model></cpu>`;
/** A CPU h2 and h3 can run (QEMU's default qemu64 needs svm, which a Nehalem host lacks). */
const NEHALEM = cpu('Nehalem');
/** One they cannot (aes). */
const WESTMERE = cpu('Westmere');

/** RPC to a host's ferryd over its unix socket (reachable from outside its network). */
async function rpc(t: TestContext, host: TestbedHost): Promise<Connection> {
  const conn = await openConnection(
    `qemu+unix:///system?socket=${join(host.paths.runDir, 'ferry-sock')}`,
  );
  t.after(() => conn.close());
  return conn;
}

/** Makes h1's ferryd plan over all three hosts, itself included by its network URI. */
async function joinFleet(tb: Testbed): Promise<[TestbedHost, TestbedHost, TestbedHost]> {
  const hosts = tb.hosts as [TestbedHost, TestbedHost, TestbedHost];
  await hosts[0].ferryOk('fleet', 'add', ...hosts.map((h) => h.tcpUri));
  return hosts;
}

/** Which hosts list `guest` (any state), by host name. */
async function whereIs(hosts: TestbedHost[], guest: string): Promise<string[]> {
  const found: string[] = [];
  for (const h of hosts) if ((await listOf(h)).some(([n]) => n === guest)) found.push(h.name);
  return found;
}

/** The state of `guest` on `host`, or undefined. */
async function stateOn(host: TestbedHost, guest: string): Promise<string | undefined> {
  return (await listOf(host)).find(([n]) => n === guest)?.[1];
}

/** Every member's capacity, by host name. */
async function capacities(conn: Connection): Promise<Map<string, HostCapacity>> {
  const { members } = await conn.call('fleet.members', {});
  return new Map(members.map((m) => [m.capacity.hostname, m.capacity]));
}

/** No host runs guests whose memory adds up to more than it offers. */
function assertWithinMemory(caps: Map<string, HostCapacity>): void {
  for (const [name, cap] of caps) {
    const running = cap.guests
      .filter((g) => g.state === 'running' || g.state === 'paused')
      .reduce((sum, g) => sum + g.memoryKiB, 0);
    assert.ok(running <= cap.memoryKiB, `${name} runs ${running} KiB of ${cap.memoryKiB} offered`);
  }
}

/**
 * h1 has 2 CPUs, so its moves copy memory one at a time (streamLimit): no stream starts
 * before the previous one completed, by h1's ferryd log.
 */
function assertOneStreamAtOnce(log: string): void {
  const events = log
    .split('\n')
    .filter((l) => l.includes('"migration started"') || l.includes('"migration stream completed"'))
    .map((l) => JSON.parse(l) as { msg: string; domain: string });
  const starts = events.filter((e) => e.msg === 'migration started');
  assert.ok(starts.length >= 4, `h1 started its live moves: ${starts.length}`);
  let streaming: string | undefined;
  for (const e of events) {
    if (e.msg === 'migration started') {
      assert.equal(streaming, undefined, `${e.domain} started while ${streaming} still streamed`);
      streaming = e.domain;
    } else {
      assert.equal(e.domain, streaming);
      streaming = undefined;
    }
  }
}

/** `ferry …` on `host` that exits with `code`; its stdout. */
async function ferryExits(host: TestbedHost, code: number, ...args: string[]): Promise<string> {
  const r = await host.ferry(...args);
  assert.equal(r.code, code, `ferry ${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

void test('evacuate --return --execute, then --undo; a failure mid-plan stops it cleanly', async (t) => {
  const tb = await useTestbed(t, {
    hosts: 3,
    extraConfig: (h) =>
      h === 'h1' ? 'host_memory_mib = 2048\n' : 'host_memory_mib = 1024\ncpu_limit = "Nehalem"\n',
  });
  const hosts = await joinFleet(tb);
  const [h1, h2, h3] = hosts;
  const serials = new Map<string, string>();
  // Mixed sizes and dirty rates, small first so the moves overlap on 2 cores.
  for (const g of [
    { name: 'quiet1', memoryMiB: 128, hbMs: 500 },
    { name: 'quiet2', memoryMiB: 192, hbMs: 600 },
    { name: 'dirty1', memoryMiB: 160, hbMs: 500, dirtyMiB: 16, dirtyRate: 8 },
    { name: 'dirty2', memoryMiB: 256, hbMs: 700, dirtyMiB: 24, dirtyRate: 16 },
  ])
    serials.set(g.name, await startGuestOn(t, h1, { ...g, extraTop: NEHALEM }));
  await startGuestOn(t, h1, { name: 'off', memoryMiB: 128, extraTop: NEHALEM }, false);
  const pinned = await startGuestOn(t, h1, { name: 'pinned', hbMs: 1000, extraTop: WESTMERE });
  const moved = [...serials.keys(), 'off'];

  const out = await ferryExits(h1, 0, 'evacuate', 'h1', '--return', '--execute');
  // The plan names the guest it cannot move and why; the run ends with the summary.
  assert.match(out, /pinned/);
  assert.match(out, /Westmere|cpu/);
  assert.match(out, /\[\d\/5\] quiet1 h1 → h[23]: completed in /);
  assert.match(out, /Evacuated h1: 5 moved, 0 failed, 1 left in place in [\d.]+ s\n/);
  for (const name of moved) {
    const where = await whereIs(hosts, name);
    assert.equal(where.length, 1, `${name} is on exactly one host: ${where.join(', ')}`);
    assert.notEqual(where[0], 'h1', `${name} left h1`);
  }
  assert.deepEqual(await whereIs(hosts, 'pinned'), ['h1']);
  assert.equal(await stateOn(h1, 'pinned'), 'running');
  const target = (await whereIs(hosts, 'off'))[0] === 'h2' ? h2 : h3;
  assert.equal(await stateOn(target, 'off'), 'shut off', 'the shut-off guest moved offline');
  const conn = await rpc(t, h1);
  assertWithinMemory(await capacities(conn));
  for (const serial of serials.values()) {
    await keepsBeating(serial);
    assertOneLife(serial);
  }
  assertOneStreamAtOnce(h1.ferrydLog());
  // Where each came from, for the undo.
  const returns = JSON.parse(
    readFileSync(join(h1.paths.stateDir, 'fleet-returns.json'), 'utf8'),
  ) as { returns: { host: string; guest: string }[] };
  assert.deepEqual(returns.returns.map((r) => `${r.host}:${r.guest}`).sort(), [
    'h1:dirty1',
    'h1:dirty2',
    'h1:off',
    'h1:quiet1',
    'h1:quiet2',
  ]);

  // After the maintenance: back home, running as before; the records are used up.
  const back = await ferryExits(h1, 0, 'evacuate', '--undo', 'h1', '--execute');
  assert.match(back, /Brought back to h1: 5 moved, 0 failed, 0 left in place/);
  for (const name of moved) assert.deepEqual(await whereIs(hosts, name), ['h1'], name);
  assert.equal(await stateOn(h1, 'off'), 'shut off');
  for (const serial of serials.values()) {
    await keepsBeating(serial);
    assertOneLife(serial);
  }
  assert.deepEqual(
    JSON.parse(readFileSync(join(h1.paths.stateDir, 'fleet-returns.json'), 'utf8')),
    { returns: [] },
  );

  // A failure mid-plan: after planning, a guest named like the first move's appears on its
  // target, so that move fails; nothing new starts, and every guest stays on one host.
  const plan = await conn.call('fleet.plan', { kind: 'evacuate', host: 'h1' });
  const first = plan.moves.find((m) => m.order === 1);
  assert.ok(first, 'the plan has moves');
  const blocker = first.to === 'h2' ? h2 : h3;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-blocker-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'blocker.xml'),
    guestXml({ name: first.guest, serialLog: join(dir, 'serial.log'), extraTop: NEHALEM }),
  );
  await blocker.ferryOk('define', join(dir, 'blocker.xml'));
  const result = await conn.call('fleet.run', { planId: plan.id });
  const firstState = result.moves.find((m) => m.order === 1);
  assert.equal(firstState?.state, 'failed', JSON.stringify(result));
  assert.match(result.stoppedBecause ?? '', new RegExp(`moving ${first.guest} failed`));
  assert.ok(
    result.moves.some((m) => m.state === 'skipped'),
    'later moves are skipped',
  );
  for (const m of result.moves) {
    assert.ok(['completed', 'failed', 'skipped'].includes(m.state), `${m.guest}: ${m.state}`);
    const where = await whereIs(hosts, m.guest);
    const expected = m.state === 'completed' ? [m.to] : ['h1'];
    if (m.guest === first.guest) expected.push(blocker.name);
    assert.deepEqual(where.sort(), expected.sort(), `${m.guest} (${m.state})`);
  }
  for (const serial of serials.values()) {
    await keepsBeating(serial);
    assertOneLife(serial);
  }
  await keepsBeating(pinned);
  // A plan runs once.
  await assert.rejects(conn.call('fleet.run', { planId: plan.id }), /carried out already/);
  assert.ok(existsSync(join(h1.paths.stateDir, 'fleet-returns.json')));
});

void test('balance and consolidate, executed, reach what their plans state', async (t) => {
  // Room for every guest on one host (each needs 128 MiB + QEMU's ≈ 134 MiB), so consolidate
  // can empty two.
  const tb = await useTestbed(t, { hosts: 3, extraConfig: 'host_memory_mib = 2048\n' });
  const hosts = await joinFleet(tb);
  const [h1, h2] = hosts;
  const serials: string[] = [];
  for (const [i, host] of [h1, h1, h1, h1, h2].entries())
    serials.push(await startGuestOn(t, host, { name: `g${i + 1}`, memoryMiB: 128, hbMs: 700 }));
  const conn = await rpc(t, h1);

  const balance = await conn.call('fleet.plan', { kind: 'balance' });
  assert.ok(balance.moves.length > 0, 'a skewed fleet has something to balance');
  const balanced = await ferryExits(h1, 0, 'balance', '--execute');
  assert.match(balanced, new RegExp(`Balanced: ${balance.moves.length} moved, 0 failed`));
  const after = await capacities(conn);
  // Each host ends where the plan said (the plan made again is the one shown and run).
  for (const load of balance.hosts) {
    const cap = after.get(load.host);
    assert.ok(cap, load.host);
    // Within rounding: the plan sums bytes, capacity reports whole KiB.
    const used = cap.memoryKiB - cap.freeMemoryKiB;
    assert.ok(
      Math.abs(used - load.usedAfterKiB) <= 2,
      `${load.host} uses ${used} KiB, plan said ${load.usedAfterKiB}`,
    );
  }
  assertWithinMemory(after);
  // The spread the plan states is the one reached.
  const stated = /Spread \d+ % → (\d+) % \(memory used \/ offered\) with (\d+) move/.exec(
    balance.summary.join('\n'),
  );
  assert.ok(stated, balance.summary.join('\n'));
  assert.equal(Number(stated[2]), balance.moves.length);
  const shares = [...after.values()].map((c) => (c.memoryKiB - c.freeMemoryKiB) / c.memoryKiB);
  const spread = Math.round((Math.max(...shares) - Math.min(...shares)) * 100);
  assert.ok(Math.abs(spread - Number(stated[1])) <= 1, `spread ${spread} %, stated ${stated[1]} %`);

  const consolidate = await conn.call('fleet.plan', { kind: 'consolidate', keep: 1 });
  const emptied = consolidate.hosts.filter((h) => h.usedBeforeKiB > 0 && h.usedAfterKiB === 0);
  assert.ok(emptied.length > 0, `consolidate empties a host: ${consolidate.summary.join('; ')}`);
  const packed = await ferryExits(h1, 0, 'consolidate', '--execute');
  assert.match(packed, new RegExp(`Consolidated: ${consolidate.moves.length} moved, 0 failed`));
  const final = await capacities(conn);
  for (const h of emptied) {
    const running = final.get(h.host)?.guests.filter((g) => g.state === 'running') ?? [];
    assert.deepEqual(running, [], `${h.host} is empty`);
  }
  assertWithinMemory(final);
  for (const serial of serials) {
    await keepsBeating(serial);
    assertOneLife(serial);
  }
});

void test('Ctrl-C stops scheduling, and so does closing the connection that ran the plan', async (t) => {
  const tb = await useTestbed(t, { hosts: 3, extraConfig: 'host_memory_mib = 2048\n' });
  const hosts = await joinFleet(tb);
  const [h1] = hosts;
  const serials = new Map<string, string>();
  // More guests than run at once (Parallel: 4), so some are still waiting when it stops.
  for (let i = 1; i <= 6; i++)
    serials.set(`s${i}`, await startGuestOn(t, h1, { name: `s${i}`, memoryMiB: 128, hbMs: 700 }));

  const cli = h1.spawn([process.execPath, FERRY_BIN, 'evacuate', 'h1', '--execute'], {
    env: { FERRY_DEFAULT_URI: h1.localUri },
  });
  t.after(() => cli.kill('SIGKILL'));
  let out = '';
  cli.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  cli.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => cli.on('exit', resolve));
  await until(
    () => /\[1\/6\] \S+ h1 → h[23]: started/.test(out),
    60_000,
    () => out,
  );
  cli.kill('SIGINT');
  assert.equal(await exited, 0, out);
  assert.match(out, /stopping: no new moves; [1-4] under way finish or roll back/);
  assert.match(out, /Stopped: asked to stop \(fleet\.stop\)/);
  const summary = /Evacuated h1: (\d) moved, 0 failed, (\d) left in place/.exec(out);
  assert.ok(summary, out);
  assert.ok(Number(summary[1]) >= 1 && Number(summary[2]) >= 2, out);
  assert.equal(Number(summary[1]) + Number(summary[2]), 6);
  assert.match(out, /: skipped/);
  await assertEachOnOneHost(hosts, serials);

  // What is left on h1, planned again: the last move is aborted (domjobabort) while it waits
  // for h1's one memory-stream slot (or, at worst, while it streams): it fails, and its guest
  // stays running on h1.
  const conn = await rpc(t, h1);
  const plan = await conn.call('fleet.plan', { kind: 'evacuate', host: 'h1' });
  assert.equal(plan.moves.length, Number(summary[2]));
  const last = plan.moves.at(-1);
  assert.ok(last);
  const running = startedOnce(conn);
  const result = conn.call('fleet.run', { planId: plan.id });
  await running;
  // Its job exists once its own preflight has passed: ask until there is one to abort.
  await untilAsync(async () => (await h1.ferry('domjobabort', last.guest)).code === 0, 30_000);
  const ran = await result;
  const aborted = ran.moves.find((m) => m.guest === last.guest);
  assert.equal(aborted?.state, 'failed', JSON.stringify(ran.moves));
  assert.match(aborted.error ?? '', /operation aborted/);
  assert.deepEqual(await whereIs(hosts, last.guest), ['h1']);
  await assertEachOnOneHost(hosts, serials);

  // Once more over a connection that closes as soon as a move runs: that stops the plan.
  const closing = await openConnection(
    `qemu+unix:///system?socket=${join(h1.paths.runDir, 'ferry-sock')}`,
  );
  const again = await closing.call('fleet.plan', { kind: 'evacuate', host: 'h1' });
  assert.ok(again.moves.length >= 1);
  const moving = startedOnce(closing);
  void closing.call('fleet.run', { planId: again.id }).catch(() => undefined);
  await moving;
  closing.close();
  await until(
    () => h1.ferrydLog().includes('the connection that ran the plan closed'),
    60_000,
    () => h1.ferrydLog().slice(-2000),
  );
  await assertEachOnOneHost(hosts, serials);
});

/** Resolves at the first `fleet.progress` on `conn` with a move running. */
function startedOnce(conn: Connection): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = conn.onNotification('fleet.progress', (p) => {
      if (!p.moves.some((m) => m.state === 'running')) return;
      stop();
      resolve();
    });
  });
}

/** Asks `ok` every 100 ms until it says yes, failing after `ms`. */
async function untilAsync(ok: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls `ok` every 100 ms until it holds, failing after `ms` with `why()`. */
async function until(ok: () => boolean, ms: number, why: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out; ${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every guest is on exactly one host, running there, with one unbroken life. */
async function assertEachOnOneHost(
  hosts: TestbedHost[],
  serials: Map<string, string>,
): Promise<void> {
  for (const [name, serial] of serials) {
    const where = await whereIs(hosts, name);
    assert.equal(where.length, 1, `${name} is on exactly one host: ${where.join(', ')}`);
    const host = hosts.find((h) => h.name === where[0]);
    assert.ok(host);
    assert.equal(await stateOn(host, name), 'running', name);
    await keepsBeating(serial);
    assertOneLife(serial);
  }
}
