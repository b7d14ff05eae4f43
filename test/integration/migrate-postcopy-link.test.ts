/**
 * Post-copy across a link that breaks (issue #4): two testbed hosts, a guest dirtying memory,
 * a migration switched to post-copy while most of the memory is still on the source, then the
 * destination's cable pulled (its veth set down: no RST, only silence). Both ferryd notice by
 * keepalive and pause their QEMU's stream; once the link is back the stream is resumed (by
 * ferryd itself, or by `ferry migrate --postcopy-resume`), the job completes, and the guest's
 * own heartbeat shows one life on the destination with no corrupted page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHeartbeats } from '../helpers/guest.js';
import {
  assertOneLife,
  jobBytes,
  keepsBeating,
  waitForJob,
  waitUntil,
} from '../helpers/migration.js';
import { startGuestOn } from '../helpers/remote.js';
import { useTestbed, type TestbedHost } from '../helpers/testbed.js';
import type { CommandResult } from '../../src/testbed/index.js';
import { guestProcesses } from '../../src/testbed/ferryd.js';

const rootOnly = process.getuid?.() === 0 ? {} : { skip: 'needs root (network namespaces)' };
/** Quick detection of a silent link: about 4 s (interval × (count + 1)). */
const KEEPALIVE = 'keepalive_interval = 1\nkeepalive_count = 3\n';
/** Dirties a 32 MiB working set at 20 MiB/s (post-copy is safe at such rates). */
const GUEST = { hbMs: 200, dirtyMiB: 32, dirtyRate: 20 } as const;
const PAUSED = /^Post-copy: +paused/m;
const MiB = 1024 * 1024;

/** Whether the job journal of `host` holds an unfinished entry of `role` marked paused. */
function journalSaysPaused(host: TestbedHost, role: 'source' | 'destination'): boolean {
  const dir = join(host.paths.runDir, 'jobs');
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${role}-`))
    .some((f) => {
      const entry = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        phase: string;
        postcopyPaused?: boolean;
      };
      return entry.phase !== 'done' && entry.postcopyPaused === true;
    });
}

/**
 * Starts `ferry migrate --postcopy` of `name` from h1 to h2 with the stream capped (8 MiB/s in
 * pre-copy, 1 MiB/s for the background push of post-copy, so it lasts a minute or more; pages
 * the guest asks for come at once), switches it to post-copy early, and waits until the guest
 * runs on h2. Returns the CLI's run (in an object: an async function would wait for it).
 */
async function migrateIntoPostcopy(
  h1: TestbedHost,
  h2: TestbedHost,
  name: string,
): Promise<{ job: Promise<CommandResult> }> {
  const job = h1.ferry(
    ...['migrate', '--live', '--persistent', '--postcopy', '--verbose'],
    ...['--bandwidth', '8', '--postcopy-bandwidth', '1', name, h2.tcpUri],
  );
  // A migrate that ends before the stream is under way says why, rather than a minute of "None".
  const endedEarly = job.then((r) =>
    assert.fail(`ferry migrate ended before post-copy (${r.code}):\n${r.stdout}${r.stderr}`),
  );
  await Promise.race([
    waitForJob(h1, name, (info) => (jobBytes(info, 'Data processed') ?? 0) > 8 * MiB),
    endedEarly,
  ]);
  endedEarly.catch(() => undefined);
  await h1.ferryOk('migrate-postcopy', name);
  await waitUntil(
    'the guest to run on the destination in post-copy',
    async () => (await h2.ferry('domstate', name)).stdout.trim() === 'running',
    60_000,
  );
  const info = await h1.ferryOk('domjobinfo', name);
  assert.ok(
    (jobBytes(info, 'Data remaining') ?? 0) > 16 * MiB,
    `much still on the source when the link breaks:\n${info}`,
  );
  return { job };
}

/** Cuts h2's link and waits until both sides report the stream paused, in domjobinfo and journal. */
async function cutAndWaitPaused(h1: TestbedHost, h2: TestbedHost, name: string): Promise<void> {
  await h2.cut();
  const src = await waitForJob(h1, name, (i) => PAUSED.test(i), { timeoutMs: 60_000 });
  const dst = await waitForJob(h2, name, (i) => PAUSED.test(i), { timeoutMs: 60_000 });
  assert.match(dst, /^Post-copy: +paused; waiting for the source to resume the stream$/m);
  assert.match(src, /^Operation: +Outgoing migration/m);
  assert.ok(journalSaysPaused(h1, 'source'), 'the source journal says paused');
  assert.ok(journalSaysPaused(h2, 'destination'), 'the destination journal says paused');
  assert.match(h1.ferrydLog(), /destination not answering during post-copy; pausing the stream/);
  assert.match(h2.ferrydLog(), /source not answering during post-copy; pausing the stream/);
}

/** The guest ends on h2 only, running, one life, nothing corrupted; its heartbeat goes on. */
async function assertOnDestinationOnly(
  h1: TestbedHost,
  h2: TestbedHost,
  name: string,
  serial: string,
) {
  assert.equal(await h2.ferryOk('domstate', name, '--reason'), 'running (migrated)\n\n');
  assert.equal(await h1.ferryOk('domstate', name, '--reason'), 'shut off (migrated)\n\n');
  assert.deepEqual(guestProcesses(h1.paths.runDir), [], 'no QEMU left on the source');
  assert.equal(guestProcesses(h2.paths.runDir).length, 1, 'one QEMU on the destination');
  assert.match(await h1.ferryOk('domjobinfo', name, '--completed'), /^Job type: +Completed/m);
  assert.match(await h2.ferryOk('domjobinfo', name, '--completed'), /^Job type: +Completed/m);
  await keepsBeating(serial);
  assertOneLife(serial);
}

test(
  'post-copy across a cut link: both sides pause, ferryd resumes the stream once the link is back, the guest keeps its one life',
  { ...rootOnly, timeout: 420_000 },
  async (t) => {
    const tb = await useTestbed(t, { extraConfig: KEEPALIVE });
    const [h1, h2] = [tb.host('h1'), tb.host('h2')];
    const serial = await startGuestOn(t, h1, { name: 'pc', ...GUEST });
    const { job } = await migrateIntoPostcopy(h1, h2, 'pc');

    await cutAndWaitPaused(h1, h2, 'pc');
    const beatsWhilePaused = readHeartbeats(serial).length;
    // The source keeps trying while the link is down, and says so.
    await waitUntil(
      'a second try',
      () => /reconnecting to qemu\+tcp:\/\/h2\/system \(try 2\)/.test(h1.ferrydLog()),
      60_000,
    );
    const abort = await h1.ferry('domjobabort', 'pc');
    assert.equal(abort.code, 1);
    assert.match(
      abort.stderr,
      /^error: Requested operation is not valid: cannot abort migration in post-copy mode: the post-copy migration of 'pc' is paused/m,
    );
    assert.match(await h1.ferryOk('domjobinfo', 'pc'), PAUSED, 'the refused abort changed nothing');
    t.diagnostic(`heartbeats before the link came back: ${beatsWhilePaused}`);

    await h2.restore();
    const r = await job;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /post-copy paused, reconnecting\u2026\n/);
    assert.match(r.stderr, /post-copy resumed\n/);
    assert.match(h1.ferrydLog(), /post-copy resumed/);
    assert.ok(!journalSaysPaused(h1, 'source') && !journalSaysPaused(h2, 'destination'));
    await assertOnDestinationOnly(h1, h2, 'pc', serial);
    assert.ok(
      readHeartbeats(serial).length > beatsWhilePaused,
      'the guest went on after the pause',
    );
    await h2.ferryOk('destroy', 'pc');
  },
);

test(
  'migrate --postcopy-resume resumes a paused post-copy by hand (automatic resume off); bad uses change nothing',
  { ...rootOnly, timeout: 420_000 },
  async (t) => {
    const tb = await useTestbed(t, {
      extraConfig: (host) => `${KEEPALIVE}${host === 'h1' ? 'postcopy_auto_resume = 0\n' : ''}`,
    });
    const [h1, h2] = [tb.host('h1'), tb.host('h2')];
    const serial = await startGuestOn(t, h1, { name: 'pr', ...GUEST });

    // No job at all.
    const idle = await h1.ferry('migrate', '--postcopy-resume', 'pr', h2.tcpUri);
    assert.equal(idle.code, 1);
    assert.equal(
      idle.stderr,
      "error: Requested operation is not valid: domain 'pr' has no paused post-copy migration to resume\n",
    );
    assert.match(await h1.ferryOk('domstate', 'pr'), /^running/);

    const { job } = await migrateIntoPostcopy(h1, h2, 'pr');
    // In post-copy, but not paused.
    const notPaused = await h1.ferry('migrate', '--postcopy-resume', 'pr', h2.tcpUri);
    assert.equal(notPaused.code, 1);
    assert.match(
      notPaused.stderr,
      /^error: Requested operation is not valid: the migration of 'pr' is not a paused post-copy \(status postcopy-active\)$/m,
    );

    await cutAndWaitPaused(h1, h2, 'pr');
    assert.match(
      await h1.ferryOk('domjobinfo', 'pr'),
      /^Post-copy: +paused; waiting for ferry migrate --postcopy-resume$/m,
    );
    // Options that would change the job are refused before anything is tried.
    const changing = await h1.ferry(
      'migrate',
      '--postcopy-resume',
      '--bandwidth',
      '50',
      'pr',
      h2.tcpUri,
    );
    assert.equal(changing.code, 1);
    assert.match(
      changing.stderr,
      /^error: Option --bandwidth cannot be used with --postcopy-resume/m,
    );
    // A try while the link is still down fails, saying why; the job stays paused.
    const early = await h1.ferry('migrate', '--postcopy-resume', 'pr', h2.tcpUri);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /^error: Cannot reach destination qemu\+tcp:\/\/h2\/system/m);
    assert.match(await h1.ferryOk('domjobinfo', 'pr'), PAUSED);

    await h2.restore();
    // Nothing resumes it by itself with postcopy_auto_resume = 0: one more look after a while.
    await new Promise((r) => setTimeout(r, 5000));
    assert.match(
      await h1.ferryOk('domjobinfo', 'pr'),
      PAUSED,
      'still paused, waiting for the user',
    );
    assert.doesNotMatch(h1.ferrydLog(), /reconnecting to qemu\+tcp:\/\/h2\/system \(try 2\)/);

    const resumed = await h1.ferry(
      'migrate',
      '--postcopy-resume',
      '--postcopy',
      '--live',
      'pr',
      h2.tcpUri,
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, '\n');
    const r = await job;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /post-copy paused, waiting for ferry migrate --postcopy-resume\n/);
    await assertOnDestinationOnly(h1, h2, 'pr', serial);
    await h2.ferryOk('destroy', 'pr');
  },
);

test(
  'a source ferryd restarted while post-copy is paused takes the job up from its journal and resumes it',
  { ...rootOnly, timeout: 420_000 },
  async (t) => {
    const tb = await useTestbed(t, { extraConfig: KEEPALIVE });
    const [h1, h2] = [tb.host('h1'), tb.host('h2')];
    const serial = await startGuestOn(t, h1, { name: 'rs', ...GUEST });
    const { job } = await migrateIntoPostcopy(h1, h2, 'rs');
    await cutAndWaitPaused(h1, h2, 'rs');

    // SIGTERM: ferryd goes, its guests stay; the CLI waiting on it loses its connection.
    await h1.restartFerryd();
    const lost = await job;
    assert.equal(lost.code, 1, 'the CLI lost its ferryd');
    await waitUntil('the restarted ferryd to take up the job', () =>
      /recovering a migration job/.test(h1.ferrydLog()),
    );
    assert.ok(journalSaysPaused(h1, 'source'), 'still journaled as paused, not rolled back');
    assert.match(await h1.ferryOk('domjobinfo', 'rs'), PAUSED);
    const refused = await h1.ferry('domjobabort', 'rs');
    assert.match(refused.stderr, /cannot abort migration in post-copy mode/);

    await h2.restore();
    await waitUntil(
      'the job to end with the guest on the destination',
      async () => (await h1.ferry('domstate', 'rs')).stdout.trim() === 'shut off',
      240_000,
    );
    t.diagnostic(`h1 took the job up: ${/recovered source job[^"]*/.exec(h1.ferrydLog())?.[0]}`);
    await assertOnDestinationOnly(h1, h2, 'rs', serial);
    await h2.ferryOk('destroy', 'rs');
  },
);
