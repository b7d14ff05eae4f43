import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainManager, DomainRecord } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import { MigrateFlags, type JobStats } from '../rpc/schema/migration.js';
import { watch } from './source-watch.js';

/** A monitor that answers query-migrate from a script, and has an event ready at once. */
function scriptedQmp(replies: object[]): { qmp: QmpClient; queries: () => number } {
  let n = 0;
  const fake = {
    execute: (command: string) => {
      assert.equal(command, 'query-migrate');
      const reply = replies[Math.min(n, replies.length - 1)];
      n++;
      return Promise.resolve(reply);
    },
    waitForEvent: () => Promise.resolve({ event: 'MIGRATION', data: {}, timestamp: {} }),
  };
  return { qmp: fake as unknown as QmpClient, queries: () => n };
}

const flags = MigrateFlags.parse({ live: true });
const rec = {} as DomainRecord;
const domains = {} as unknown as DomainManager;
const control = { aborted: false, postcopyRequested: false };
const hooks = {
  onPostcopy: () => Promise.resolve(),
  onPostcopyStatus: () => undefined,
  describe: (s: JobStats) => s,
};

test('watch() waits for the statistics QEMU fills in just after announcing completion', async () => {
  // QEMU 7.2 sets 'completed' before its migration thread computes total-time and downtime.
  const { qmp, queries } = scriptedQmp([
    { status: 'active', 'total-time': 100 },
    { status: 'completed', 'total-time': 0, downtime: 0 },
    { status: 'completed', 'total-time': 0, downtime: 0 },
    { status: 'completed', 'total-time': 321, downtime: 12 },
  ]);
  const seen: number[] = [];
  const stats = await watch(
    qmp,
    flags,
    control,
    rec,
    domains,
    (s) => seen.push(s.timeElapsedMs ?? -1),
    hooks,
  );
  assert.equal(stats.timeElapsedMs, 321);
  assert.equal(stats.totalDowntimeMs, 12);
  assert.equal(queries(), 4);
  assert.equal(seen.at(-1), 321, 'the last progress report is the final one');
});

test('watch() does not query forever when QEMU never fills the statistics in', async () => {
  const { qmp, queries } = scriptedQmp([{ status: 'completed', 'total-time': 0, downtime: 0 }]);
  const stats = await watch(qmp, flags, control, rec, domains, () => undefined, hooks);
  assert.equal(stats.status, 'completed');
  assert.ok(queries() <= 21, `${queries()} queries`);
});

test('watch() reports each post-copy status and ends the job when a hook throws', async () => {
  const { qmp } = scriptedQmp([
    { status: 'active' },
    { status: 'postcopy-paused' },
    { status: 'postcopy-recover' },
    { status: 'postcopy-active' },
    { status: 'postcopy-paused' },
  ]);
  const seen: string[] = [];
  let entered = 0;
  const err = await watch(qmp, flags, control, rec, domains, () => undefined, {
    onPostcopy: () => {
      entered++;
      return Promise.resolve();
    },
    onPostcopyStatus: (status) => {
      seen.push(status);
      if (seen.length === 4) throw new Error('cannot be resumed');
    },
    describe: (s) => s,
  }).then(
    () => assert.fail('the job cannot complete'),
    (e: unknown) => e,
  );
  assert.match(String(err), /cannot be resumed/);
  assert.equal(entered, 1, 'entering post-copy is reported once, paused or not');
  assert.deepEqual(seen, [
    'postcopy-paused',
    'postcopy-recover',
    'postcopy-active',
    'postcopy-paused',
  ]);
});
