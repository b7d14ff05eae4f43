/**
 * A ferryd killed (SIGKILL, as `kill -9`) at each step of a live migration, on the source
 * and on the destination, then started again: from its journal it finishes or rolls back
 * the job with its peer, and the guest ends running on exactly one host with its heartbeat
 * unbroken. The crash comes from ferryd's own crash points (FERRY_CRASH_AT), so each case
 * dies at exactly the moment it names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import {
  assertOneLife,
  keepsBeating,
  qemuPids,
  startGuest,
  waitUntil,
} from '../helpers/migration.js';

interface CrashCase {
  point: string;
  crashed: 'source' | 'destination';
  /** Where the guest must run in the end. */
  endsOn: 'source' | 'destination';
}

const CASES: CrashCase[] = [
  { point: 'source-performing', crashed: 'source', endsOn: 'source' },
  { point: 'source-switching', crashed: 'source', endsOn: 'source' },
  { point: 'source-finished', crashed: 'source', endsOn: 'destination' },
  { point: 'destination-prepared', crashed: 'destination', endsOn: 'source' },
  { point: 'destination-resuming', crashed: 'destination', endsOn: 'destination' },
  { point: 'destination-resumed', crashed: 'destination', endsOn: 'destination' },
];

async function stateOf(host: TestDaemon, name: string): Promise<string> {
  const r = await host.ferry('domstate', name);
  return r.code === 0 ? r.stdout.trim() : 'absent';
}

for (const c of CASES) {
  test(
    `kill -9 of the ${c.crashed} ferryd at ${c.point}: the guest ends running on the ${c.endsOn} only`,
    { timeout: 240_000 },
    async (t) => {
      const crash = { crashAt: c.point };
      const a = await startDaemon(t, c.crashed === 'source' ? crash : {});
      const b = await startDaemon(t, c.crashed === 'destination' ? crash : {});
      const crashed = c.crashed === 'source' ? a : b;
      const [winner, loser] = c.endsOn === 'source' ? [a, b] : [b, a];
      const serial = await startGuest(a, { name: 'vm', hbMs: 200, dirtyMiB: 16, dirtyRate: 5 });

      const migration = a.ferry('migrate', '--live', '--persistent', 'vm', b.uri);
      await crashed.exited();
      assert.match(crashed.log(), new RegExp(`crash point ${c.point}`));
      await crashed.restart();
      await waitUntil('the restarted ferryd to take up the job', () =>
        Promise.resolve(/recovering a migration job/.test(crashed.log())),
      );
      const r = await migration;
      if (c.crashed === 'destination' && c.endsOn === 'destination') {
        // The source waited for the destination to come back and tell it the guest runs there.
        assert.equal(r.code, 0, r.stderr);
      } else {
        assert.equal(r.code, 1, 'the migration did not complete');
        assert.match(r.stderr, /^error: /m);
      }

      await waitUntil(
        'the guest to run on exactly one host',
        async () => {
          const [w, l] = [await stateOf(winner, 'vm'), await stateOf(loser, 'vm')];
          return (
            w === 'running' &&
            (l === 'shut off' || l === 'absent') &&
            qemuPids(loser.runDir).length === 0
          );
        },
        90_000,
      );
      assert.equal(qemuPids(winner.runDir).length, 1, 'one QEMU on the host that runs the guest');

      await keepsBeating(serial);
      assertOneLife(serial);

      // Both hosts tell the outcome afterwards, the restarted one from its journal.
      const srcJob = await a.ferryOk('domjobinfo', 'vm', '--completed');
      assert.match(
        srcJob,
        c.endsOn === 'source' ? /^Job type: +Failed/m : /^Job type: +Completed/m,
      );
      if (c.endsOn === 'destination') {
        assert.match(await b.ferryOk('domjobinfo', 'vm', '--completed'), /^Job type: +Completed/m);
        assert.equal(await a.ferryOk('domstate', 'vm', '--reason'), 'shut off (migrated)\n\n');
      } else {
        assert.doesNotMatch(
          await b.ferryOk('list', '--all'),
          / vm /,
          'no copy left on the destination',
        );
      }
      // And the domain is free for the next job.
      const again = await winner.ferry('migrate', '--live', '--persistent', 'vm', loser.uri);
      assert.equal(again.code, 0, again.stderr);
      await loser.ferryOk('destroy', 'vm');
    },
  );
}
