import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobStats } from '../rpc/schema/migration.js';
import { barPayload, formatEta, plainView, ProgressModel, virshProgressText } from './progress.js';

const MiB = 1024 * 1024;

function sample(
  processedMiB: number,
  remainingMiB: number,
  extra: Partial<JobStats> = {},
): JobStats {
  return {
    type: 'Unbounded',
    status: 'active',
    dataProcessed: processedMiB * MiB,
    dataRemaining: remainingMiB * MiB,
    dataTotal: 512 * MiB,
    memoryBandwidth: 100 * MiB,
    dirtyRate: 20 * MiB,
    iteration: 1,
    ...extra,
  };
}

test('ProgressModel percent never goes back though remaining rises at each pass', () => {
  const model = new ProgressModel();
  // Pre-copy passes: remaining falls, then jumps back up with the pages dirtied meanwhile.
  const series: [number, number][] = [
    [0, 512],
    [256, 256],
    [500, 40],
    [512, 200], // new pass: raw 71 %, held at 92 %
    [600, 120],
    [700, 20],
    [710, 180], // raw 79 %, held
    [900, 5],
  ];
  const percents = series.map(([p, r]) => model.update(sample(p, r)).snapshot.percent);
  assert.deepEqual(percents, [0, 50, 92, 92, 92, 97, 97, 99]);
  for (let i = 1; i < percents.length; i++) {
    assert.ok((percents[i] ?? 0) >= (percents[i - 1] ?? 0), `step ${i} went back`);
  }
  assert.equal(model.complete().percent, 100);
});

test('ProgressModel shows 100 % only when nothing remains', () => {
  const model = new ProgressModel();
  assert.equal(model.update(sample(100_000, 1)).snapshot.percent, 99);
  assert.equal(model.update(sample(100_001, 0)).snapshot.percent, 100);
  assert.equal(new ProgressModel().update(sample(0, 0)).snapshot.percent, 0);
});

test('ProgressModel warns once when remaining stops shrinking and dirty rate ≥ throughput', () => {
  const model = new ProgressModel(3);
  const hot = { memoryBandwidth: 100 * MiB, dirtyRate: 120 * MiB };
  const warnings: string[] = [];
  // The lowest remaining is 60 MiB; after it the passes never get below it again.
  const remaining = [512, 300, 60, 200, 120, 80, 200, 110, 70, 200, 90, 65];
  remaining.forEach((r, i) => {
    const { warning } = model.update(sample(100 * (i + 1), r, hot));
    if (warning !== undefined) warnings.push(`${i}:${warning}`);
  });
  assert.deepEqual(warnings, [
    '5:warning: not converging: dirty rate 120.0 MiB/s \u2265 throughput 100.0 MiB/s\n',
  ]);
});

test('ProgressModel does not warn from stalled samples alone while dirty rate < throughput', () => {
  // outputs.md "domjobinfo DURING a non-converging migration": 24780 pages/s (96.8 MiB/s)
  // against 100.039 MiB/s; it stalls because of the downtime limit, not the dirty rate.
  const model = new ProgressModel(2);
  const stuck = { memoryBandwidth: 104898494, dirtyRate: 24780 * 4096 };
  for (const r of [512, 71, 150, 100, 90, 150, 80, 150, 75]) {
    assert.equal(model.update(sample(1000, r, stuck)).warning, undefined);
  }
});

test('ProgressModel warns when pass after pass starts with the same backlog, whatever the dirty rate', () => {
  // The shaped-link case (test/integration/remote-network.test.ts): a working set rewritten
  // every pass, dirty rate just under the throughput; the downtime limit is never met.
  const model = new ProgressModel(2);
  const rates = { memoryBandwidth: 8 * MiB, dirtyRate: 7 * MiB };
  const warnings: string[] = [];
  let step = 0;
  for (let pass = 1; pass <= 6; pass++) {
    for (const r of [8, 5, 2]) {
      const { warning } = model.update(sample(++step, r, { ...rates, iteration: pass }));
      if (warning !== undefined) warnings.push(`${pass}:${warning}`);
    }
  }
  assert.deepEqual(warnings, [
    '5:warning: not converging: each pass starts with about 8.0 MiB again (dirty rate 7.0 MiB/s, throughput 8.0 MiB/s); try --auto-converge, --postcopy or a larger migrate-setmaxdowntime\n',
  ]);
  // A converging job starts each pass with less: no warning.
  const healthy = new ProgressModel(2);
  for (let pass = 1; pass <= 8; pass++) {
    const start = 64 / 2 ** pass;
    for (const r of [start, start / 2, start / 4]) {
      const u = healthy.update(sample(++step, r, { ...rates, iteration: pass }));
      assert.equal(u.warning, undefined);
    }
  }
});

test('ProgressModel does not warn during post-copy', () => {
  const model = new ProgressModel(1);
  const hot = { memoryBandwidth: 100 * MiB, dirtyRate: 200 * MiB, postcopy: true };
  for (const r of [100, 190, 190, 190, 190]) {
    assert.equal(model.update(sample(500, r, hot)).warning, undefined);
  }
});

test('ProgressModel ETA is remaining / (throughput − dirty rate), unknown when not gaining', () => {
  const model = new ProgressModel();
  const gaining = model.update(sample(100, 80, { memoryBandwidth: 50 * MiB, dirtyRate: 10 * MiB }));
  assert.equal(gaining.snapshot.etaSeconds, 2);
  const losing = model.update(sample(100, 80, { memoryBandwidth: 50 * MiB, dirtyRate: 50 * MiB }));
  assert.equal(losing.snapshot.etaSeconds, undefined);
  assert.equal(formatEta(losing.snapshot.etaSeconds), '--');
});

test('formatEta() rounds up to whole seconds, minutes and hours', () => {
  assert.equal(formatEta(0), '0s');
  assert.equal(formatEta(1.2), '2s');
  assert.equal(formatEta(59), '59s');
  assert.equal(formatEta(185), '3m05s');
  assert.equal(formatEta(3720), '1h02m');
  assert.equal(formatEta(Number.POSITIVE_INFINITY), '--');
});

test('virshProgressText() is virsh\'s "\\r%s: [%3d %%]"', () => {
  assert.equal(virshProgressText(6), '\rMigration: [  6 %]');
  assert.equal(virshProgressText(55), '\rMigration: [ 55 %]');
  assert.equal(virshProgressText(100), '\rMigration: [100 %]');
});

test("plainView() writes virsh's \\r text once per change and [100 %] at the end", () => {
  let out = '';
  const view = plainView((t) => (out += t));
  view.sample({ type: 'Unbounded', status: 'setup' }); // size not known yet: nothing, as virsh
  view.sample(sample(256, 256));
  view.sample(sample(256, 256));
  view.sample(sample(500, 40));
  view.sample(sample(512, 200)); // raw percent fell: still 92
  view.finish(true);
  // outputs.md prints this with cat -A: ^MMigration: [ 50 %]^MMigration: [ 92 %]^M…[100 %]
  assert.equal(out, '\rMigration: [ 50 %]\rMigration: [ 92 %]\rMigration: [100 %]');
});

test('plainView() leaves the last percentage for the error line when the job fails', () => {
  let out = '';
  const view = plainView((t) => (out += t));
  view.sample(sample(300, 100));
  view.finish(false);
  // virsh then prints "error: operation aborted: …" right after it.
  assert.equal(out, '\rMigration: [ 75 %]');
});

test('plainView() puts a warning on a line of its own and carries on', () => {
  let out = '';
  const view = plainView((t) => (out += t), new ProgressModel(1));
  const hot = { memoryBandwidth: 100 * MiB, dirtyRate: 100 * MiB };
  view.sample(sample(100, 100, hot));
  view.sample(sample(200, 150, hot));
  view.sample(sample(300, 160, hot));
  assert.equal(
    out,
    '\rMigration: [ 50 %]\nwarning: not converging: dirty rate 100.0 MiB/s \u2265 throughput 100.0 MiB/s\n' +
      '\rMigration: [ 57 %]\rMigration: [ 65 %]',
  );
});

test('barPayload() shows MiB, MiB/s, the iteration and the ETA', () => {
  const model = new ProgressModel();
  const { snapshot } = model.update(
    sample(82.5, 30, { iteration: 3, memoryBandwidth: 40 * MiB, dirtyRate: 10 * MiB }),
  );
  assert.deepEqual(barPayload(snapshot), {
    done: '82.5',
    size: '512.0',
    disks: '',
    rate: '40.0',
    dirty: '10.0',
    iter: '3',
    etaText: '1s',
  });
});

test('barPayload() shows a storage copy apart, and its rate while only the disks move', () => {
  const model = new ProgressModel();
  const { snapshot } = model.update({
    type: 'Unbounded',
    status: 'active',
    dataProcessed: 100 * MiB,
    dataRemaining: 412 * MiB,
    dataTotal: 512 * MiB,
    diskProcessed: 100 * MiB,
    diskRemaining: 156 * MiB,
    diskTotal: 256 * MiB,
    diskBandwidth: 50 * MiB,
  });
  const payload = barPayload(snapshot);
  assert.equal(payload['disks'], ' (disks 100.0/256.0 MiB)');
  assert.equal(payload['rate'], '50.0');
});
