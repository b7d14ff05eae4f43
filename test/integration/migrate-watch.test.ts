/**
 * The watch after the switch-over, inside a real migration: a guest that panics on the
 * destination while it is watched turns the completed job into an error with the evidence,
 * and the source copy is not resumed (the guest already ran on the destination).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../helpers/daemon.js';
import { startGuest, waitUntil } from '../helpers/migration.js';

test(
  'a guest that panics on the destination right after the switch-over fails the migration, with evidence',
  { timeout: 180_000 },
  async (t) => {
    const a = await startDaemon(t);
    // A long watch on the destination, so the test can make the guest panic inside it.
    const b = await startDaemon(t, { configText: 'migration_watch_ms = 20000\n' });
    await startGuest(a, { name: 'pw', hbMs: 200 });

    const started = Date.now();
    const job = a.ferry('migrate', '--live', '--persistent', 'pw', b.uri);
    await waitUntil(
      'the guest to run on the destination',
      async () => (await b.ferry('domstate', 'pw')).stdout.startsWith('running'),
      60_000,
    );
    await b.ferryOk('inject-nmi', 'pw');
    const r = await job;
    t.diagnostic(`migrate returned after ${Date.now() - started} ms: ${r.stderr.trim()}`);
    assert.equal(r.code, 1, 'the migration is reported as failed');
    assert.match(
      r.stderr,
      /^error: Migration of 'pw' completed, but the guest failed on the destination: .*panic/im,
    );
    assert.ok(Date.now() - started < 20_000 + 60_000, 'the watch ended early on the panic');
    assert.equal(await b.ferryOk('domstate', 'pw', '--reason'), 'crashed (panicked)\n\n');
    // The source does not resume its copy: the guest already ran on the destination.
    assert.equal(await a.ferryOk('domstate', 'pw', '--reason'), 'shut off (migrated)\n\n');
    const done = await a.ferryOk('domjobinfo', 'pw', '--completed');
    assert.match(done, /^Job type: +Completed/m);
    await b.ferryOk('destroy', 'pw');
  },
);
