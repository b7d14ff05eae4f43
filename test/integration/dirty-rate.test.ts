/**
 * domdirtyrate-calc and domstats --dirtyrate against real guests: the rate QEMU measures
 * matches what the guest's workload says it dirtied, and what cannot be measured is refused
 * before anything is asked of QEMU.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { readHeartbeats } from '../helpers/guest.js';
import {
  BANDWIDTH_CAP,
  NON_CONVERGING,
  sleep,
  startGuest,
  twoHosts,
  waitForJob,
  waitUntil,
} from '../helpers/migration.js';

const PERIOD_S = 3;

/** The dirtyrate.* fields of one domain's domstats block. */
function statsOf(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of text.matchAll(/^ {2}dirtyrate\.(\w+)=(.*)$/gm)) fields[m[1] ?? ''] = m[2] ?? '';
  return fields;
}

/** The workload's own rate (MiB/s) between two moments, from its heartbeats. */
function ownRate(serial: string, from: number, to: number): number {
  const beats = readHeartbeats(serial).filter((hb) => hb.uptime >= from && hb.uptime <= to);
  const first = beats[0];
  const last = beats.at(-1);
  assert.ok(first !== undefined && last !== undefined && last.uptime > first.uptime);
  return (last.dirtiedMib - first.dirtiedMib) / (last.uptime - first.uptime);
}

/** Measures `name` once; returns QEMU's MiB/s and the guest's own rate over the same window. */
async function measure(
  host: TestDaemon,
  name: string,
  serial: string,
): Promise<{ measured: number; own: number }> {
  const before = readHeartbeats(serial).at(-1)?.uptime ?? 0;
  const out = await host.ferryOk('domdirtyrate-calc', name, String(PERIOD_S));
  assert.equal(out, "Start to calculate domain's memory dirty rate successfully.\n\n");
  const during = statsOf(await host.ferryOk('domstats', name, '--dirtyrate'));
  // A short calculation on a slow machine may be over already; otherwise it shows as measuring.
  assert.ok(during['calc_status'] === '1' || during['calc_status'] === '2');
  let done: Record<string, string> = {};
  await waitUntil(
    `the measurement of ${name} to finish`,
    async () => {
      done = statsOf(await host.ferryOk('domstats', name, '--dirtyrate'));
      return done['calc_status'] === '2';
    },
    30_000,
  );
  await sleep(600); // one more heartbeat past the window
  const after = readHeartbeats(serial).at(-1)?.uptime ?? 0;
  assert.equal(done['calc_period'], String(PERIOD_S));
  assert.equal(done['calc_mode'], 'page-sampling');
  assert.match(done['calc_start_time'] ?? '', /^[1-9]\d*$/);
  return { measured: Number(done['megabytes_per_second']), own: ownRate(serial, before, after) };
}

test(
  'domdirtyrate-calc reads guests dirtying 0, 10 and 40 MiB/s within ±25 % of their own rate',
  { timeout: 300_000 },
  async (t) => {
    const host = await startDaemon(t);
    // The working set holds more than a period's writes, so every write lands on a new page.
    const guests = [
      { name: 'dr0', dirtyMiB: 0, dirtyRate: 0 },
      { name: 'dr10', dirtyMiB: 64, dirtyRate: 10 },
      { name: 'dr40', dirtyMiB: 160, dirtyRate: 40 },
    ];
    const serials = new Map<string, string>();
    for (const g of guests) serials.set(g.name, await startGuest(host, { ...g, hbMs: 250 }));

    // Before any calculation: zeros and the default mode, as libvirt 9 prints them.
    assert.equal(
      await host.ferryOk('domstats', 'dr0', '--dirtyrate'),
      "Domain: 'dr0'\n  dirtyrate.calc_status=0\n  dirtyrate.calc_start_time=0\n  dirtyrate.calc_period=0\n  dirtyrate.calc_mode=page-sampling\n\n",
    );
    for (const g of guests) {
      const { measured, own } = await measure(host, g.name, serials.get(g.name) ?? '');
      t.diagnostic(`${g.name}: QEMU ${measured} MiB/s, workload ${own.toFixed(1)} MiB/s`);
      if (g.dirtyRate === 0) assert.ok(measured <= 1, `idle guest read ${measured} MiB/s`);
      else
        assert.ok(
          Math.abs(measured - own) <= 0.25 * own,
          `${g.name}: ${measured} MiB/s is not within 25 % of the workload's ${own.toFixed(1)}`,
        );
    }
    // No VM named: every domain, each with its block.
    const all = await host.ferryOk('domstats', '--dirtyrate');
    assert.deepEqual(
      [...all.matchAll(/^Domain: '(\w+)'$/gm)].map((m) => m[1]),
      ['dr0', 'dr10', 'dr40'],
    );
    assert.match(all, /^ {2}dirtyrate\.megabytes_per_second=\d+$/m);
  },
);

test(
  'domdirtyrate-calc refuses what it cannot measure, and changes nothing',
  { timeout: 180_000 },
  async (t) => {
    const host = await startDaemon(t);
    await startGuest(host, { name: 'rf', hbMs: 250 });
    const refused = async (args: string[], pattern: RegExp): Promise<void> => {
      const r = await host.ferry('domdirtyrate-calc', 'rf', ...args);
      assert.equal(r.code, 1, `${args.join(' ')} is refused`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, '');
    };
    await refused(
      ['0'],
      /^error: unsupported configuration: seconds=0 is invalid, please choose value within \[1, 60\]$/m,
    );
    await refused(['--seconds', '61'], /seconds=61 is invalid/);
    await refused(
      ['abc'],
      /^error: Numeric value 'abc' for <seconds> option is malformed or out of range$/m,
    );
    await refused(
      ['--mode', 'dirty-bitmap'],
      /^error: Operation not supported: dirty-bitmap mode crashes QEMU 7\.2 under TCG/m,
    );
    await refused(
      ['--mode', 'dirty-ring'],
      /^error: Operation not supported: dirty-ring mode needs KVM/m,
    );
    await refused(['--mode', 'foo'], /^error: Unknown calculation mode 'foo'$/m);
    // Nothing was started by the refusals.
    assert.match(await host.ferryOk('domstats', 'rf', '--dirtyrate'), /calc_status=0\n/);

    // One measuring already: QEMU's own refusal, as libvirt passes it on.
    await host.ferryOk('domdirtyrate-calc', 'rf', '--seconds', '10');
    const again = await host.ferry('domdirtyrate-calc', 'rf', '2');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /the dirty rate is already being measured/);
    assert.match(
      await host.ferryOk('domstats', 'rf'),
      /calc_status=1\n {2}dirtyrate\.calc_start_time=\d+\n {2}dirtyrate\.calc_period=10\n/,
    );

    const missing = await host.ferry('domstats', 'nosuch', '--dirtyrate');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: failed to get domain 'nosuch'$/m);

    // A shut-off domain: refused, and domstats shows its header alone.
    await host.ferryOk('destroy', 'rf');
    await refused([], /^error: Requested operation is not valid: domain is not running$/m);
    assert.equal(await host.ferryOk('domstats', 'rf', '--dirtyrate'), "Domain: 'rf'\n\n");
    assert.equal(await host.ferryOk('domstats', '--list-active'), '');
  },
);

test(
  'domdirtyrate-calc is refused while the guest migrates; domstats still answers',
  { timeout: 180_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    await startGuest(a, { name: 'mj', ...NON_CONVERGING });
    const job = a.ferry('migrate', '--live', '--bandwidth', BANDWIDTH_CAP, 'mj', b.uri);
    await waitForJob(a, 'mj', (info) => /^Job type: +Unbounded/m.test(info));
    const r = await a.ferry('domdirtyrate-calc', 'mj', '2');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: Requested operation is not valid: a migration job is running on domain 'mj'.*'ferry domjobinfo mj'$/m,
    );
    assert.match(await a.ferryOk('domstats', 'mj', '--dirtyrate'), /calc_status=0\n/);
    await a.ferryOk('domjobabort', 'mj');
    assert.equal((await job).code, 1);
  },
);
