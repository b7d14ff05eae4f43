/**
 * Migrations that cannot finish, and requests that cannot work: whatever goes wrong before the
 * switch-over, the guest keeps running on the source (its own heartbeat goes on, same boot,
 * nothing corrupted) and the destination keeps no trace: no domain, no QEMU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type CliResult, type TestDaemon } from '../helpers/daemon.js';
import { guestXml } from '../helpers/guest.js';
import {
  assertOneLife,
  BANDWIDTH_CAP,
  EMPTY_LIST,
  jobBytes,
  keepsBeating,
  NON_CONVERGING,
  qemuPids,
  startGuest,
  twoHosts,
  waitForJob,
  waitUntil,
} from '../helpers/migration.js';

/**
 * Starts a migration of `name` from `a` to `b` that pre-copy keeps busy, and waits until the
 * stream has carried 16 MiB.
 */
async function busyMigration(
  a: TestDaemon,
  b: TestDaemon,
  name: string,
): Promise<{ done: Promise<CliResult> }> {
  const job = a.ferry(
    'migrate',
    '--live',
    '--persistent',
    '--bandwidth',
    BANDWIDTH_CAP,
    name,
    b.uri,
  );
  await waitForJob(a, name, (info) => (jobBytes(info, 'Data processed') ?? 0) >= 16 * 1024 ** 2);
  assert.equal(qemuPids(b.runDir).length, 1, 'the destination runs the incoming QEMU');
  return { done: job };
}

/** The job failed with one `error: …` line saying the destination is gone. */
function assertLostDestination(r: CliResult, why: RegExp): void {
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: operation failed: Lost connection to destination host/);
  assert.match(r.stderr, why);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one error line: ${r.stderr}`);
}

async function stillOnSource(a: TestDaemon, name: string, serial: string): Promise<void> {
  assert.match(await a.ferryOk('domstate', name), /^running/);
  assert.match(await a.ferryOk('domjobinfo', name, '--completed'), /^Job type: +Failed/m);
  await keepsBeating(serial);
  assertOneLife(serial);
}

test(
  'destination ferryd killed mid-job: the source cancels, the guest stays; a restarted destination keeps nothing',
  { timeout: 300_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = await startGuest(a, { name: 'dk', ...NON_CONVERGING });

    // SIGKILL in the middle of pre-copy: its socket closes, the source notices at once.
    const job = (await busyMigration(a, b, 'dk')).done;
    const killedAt = Date.now();
    await b.signal('SIGKILL');
    const r = await job;
    t.diagnostic(`migrate failed ${Date.now() - killedAt} ms after the kill: ${r.stderr.trim()}`);
    assertLostDestination(r, /Connection to ferryd closed/);
    await stillOnSource(a, 'dk', serial);
    // The cancelled stream ends the orphaned incoming QEMU (QEMU exits when a load fails).
    await waitUntil('the orphaned incoming QEMU is gone', () => qemuPids(b.runDir).length === 0);
    await b.restart();
    assert.equal(await b.ferryOk('list', '--all'), EMPTY_LIST);
    assert.deepEqual(qemuPids(b.runDir), []);

    // Killed again, and restarted at once, while its incoming QEMU still waits for the rest
    // of the stream (held back here by stopping the source QEMU): the new ferryd must not
    // adopt a half-received guest whose job is gone.
    const job2 = (await busyMigration(a, b, 'dk')).done;
    const statusFile = readFileSync(join(a.runDir, `${await uuidOf(a, 'dk')}.json`), 'utf8');
    const sourceQemu = (JSON.parse(statusFile) as { pid: number }).pid;
    process.kill(sourceQemu, 'SIGSTOP');
    try {
      await b.signal('SIGKILL');
      await b.restart();
      // Its journal says the source never handed the guest over: the restarted destination
      // throws the waiting incoming QEMU away by itself.
      await waitUntil('the restarted destination to drop the incoming QEMU', async () => {
        return qemuPids(b.runDir).length === 0 && (await b.ferryOk('list', '--all')) === EMPTY_LIST;
      });
      assert.match(b.log(), /recovering a migration job/);
    } finally {
      process.kill(sourceQemu, 'SIGCONT');
    }
    assertLostDestination(await job2, /Connection to ferryd closed/);
    await stillOnSource(a, 'dk', serial);
    // Once the source has cancelled, the stream's end ends that QEMU in any case.
    await waitUntil('the destination is empty', async () => {
      return qemuPids(b.runDir).length === 0 && (await b.ferryOk('list', '--all')) === EMPTY_LIST;
    });
  },
);

/** The UUID of a domain: dumpxml's <uuid>. */
async function uuidOf(host: TestDaemon, name: string): Promise<string> {
  const m = /<uuid>([^<]+)<\/uuid>/.exec(await host.ferryOk('dumpxml', name));
  assert.ok(m?.[1] !== undefined, `${name} has a UUID`);
  return m[1];
}

test(
  'a destination ferryd that stops answering: keepalive ends the job, the guest stays on the source',
  { timeout: 300_000 },
  async (t) => {
    // ferryd.conf's keepalive (libvirtd.conf's names): ping after 1 s of silence, give up
    // after 2 unanswered pings, so about 3 s after the destination froze.
    const a = await startDaemon(t, { configText: 'keepalive_interval = 1\nkeepalive_count = 2\n' });
    const b = await startDaemon(t);
    const serial = await startGuest(a, { name: 'ka', ...NON_CONVERGING });

    const job = (await busyMigration(a, b, 'ka')).done;
    const stoppedAt = Date.now();
    await b.signal('SIGSTOP');
    const r = await job;
    const after = Date.now() - stoppedAt;
    t.diagnostic(`migrate failed ${after} ms after the destination froze: ${r.stderr.trim()}`);
    assertLostDestination(r, /keepalive timeout/);
    assert.ok(after < 8000, `gave up within the keepalive timeout (${after} ms)`);
    await stillOnSource(a, 'ka', serial);

    // Thawed, the destination finds its source gone and throws the incoming guest away.
    await b.signal('SIGCONT');
    await waitUntil('the destination is empty', async () => {
      return qemuPids(b.runDir).length === 0 && (await b.ferryOk('list', '--all')) === EMPTY_LIST;
    });
    assert.match(b.log(), /source went away before finish; discarding the incoming guest/);
  },
);

test(
  'refusals: each names its problem in one error line and changes nothing',
  { timeout: 300_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = await startGuest(a, { name: 'r', hbMs: 200 });
    const uuid = await uuidOf(a, 'r');
    // A transient domain on the source, paused (it need not boot to be refused).
    await a.ferryOk(
      'create',
      '--paused',
      a.file('tr.xml', guestXml({ name: 'tr', serialLog: join(a.dir, 'tr.log') })),
    );
    const listA = await a.ferryOk('list', '--all');
    const stale = a.file('stale-sock', ''); // a path nobody listens on

    const refused = async (pattern: RegExp, args: string[], listB = EMPTY_LIST): Promise<void> => {
      const r = await a.ferry('migrate', ...args);
      assert.equal(r.code, 1, `ferry migrate ${args.join(' ')} must fail`);
      assert.match(r.stderr, /^error: [^\n]+\n$/, `one error line: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(await a.ferryOk('list', '--all'), listA, 'the source is unchanged');
      assert.equal(await b.ferryOk('list', '--all'), listB, 'the destination is unchanged');
      assert.deepEqual(await a.ferryOk('domstate', 'r', '--reason'), 'running (booted)\n\n');
    };
    const cases: [string, RegExp, string[]][] = [
      ['unknown domain', /^error: failed to get domain 'ghost'\n$/, ['--live', 'ghost', b.uri]],
      ['malformed URI', /Invalid connection URI 'nowhere'/, ['--live', 'r', 'nowhere']],
      [
        'no sshd at the destination',
        /^error: Cannot reach destination qemu\+ssh:\/\/127\.0\.0\.2:9\/system: Cannot connect to 127\.0\.0\.2 over ssh: connect to host 127\.0\.0\.2 port 9: Connection refused\n$/,
        ['--live', 'r', 'qemu+ssh://127.0.0.2:9/system'],
      ],
      [
        'no CA to check a TLS destination with',
        /^error: Cannot read CA certificate '\/nonexistent\/cacert\.pem': No such file or directory\n$/,
        ['--live', 'r', 'qemu+tls://127.0.0.2:9/system?pkipath=/nonexistent'],
      ],
      [
        'nobody listens on TCP',
        /Cannot reach destination qemu\+tcp:\/\/127\.0\.0\.2:9\/system: .*Connection refused/,
        ['--live', 'r', 'qemu+tcp://127.0.0.2:9/system'],
      ],
      [
        'no such socket',
        /Cannot reach destination .*No such file or directory/,
        ['--live', 'r', `qemu+unix:///system?socket=${join(b.dir, 'none')}`],
      ],
      [
        'nobody listens',
        /Cannot reach destination .*Connection refused/,
        ['--live', 'r', `qemu+unix:///system?socket=${stale}`],
      ],
      [
        '--live with --offline',
        /--live and --offline are mutually exclusive/,
        ['--live', '--offline', '--persistent', 'r', b.uri],
      ],
      [
        '--offline without --persistent',
        /Offline migration requires --persistent/,
        ['--offline', 'r', b.uri],
      ],
      [
        '--offline with --postcopy',
        /--postcopy cannot be used with --offline/,
        ['--offline', '--persistent', '--postcopy', 'r', b.uri],
      ],
      [
        '--postcopy with --parallel',
        /--postcopy and --parallel cannot be combined/,
        ['--live', '--postcopy', '--parallel', 'r', b.uri],
      ],
      [
        '--undefinesource on a transient domain',
        /--undefinesource cannot be used on a transient domain/,
        ['--live', '--persistent', '--undefinesource', 'tr', b.uri],
      ],
      [
        '--timeout-postcopy without --postcopy',
        /--timeout-postcopy requires --postcopy/,
        ['--live', '--timeout', '5', '--timeout-postcopy', 'r', b.uri],
      ],
      [
        '--timeout-suspend without --timeout',
        /require --timeout/,
        ['--live', '--timeout-suspend', 'r', b.uri],
      ],
      [
        '--timeout-suspend with --timeout-postcopy',
        /--timeout-suspend and --timeout-postcopy are mutually exclusive/,
        [
          '--live',
          '--postcopy',
          '--timeout',
          '5',
          '--timeout-suspend',
          '--timeout-postcopy',
          'r',
          b.uri,
        ],
      ],
      ['--timeout without --live', /--timeout requires --live/, ['--timeout', '5', 'r', b.uri]],
      [
        '--postcopy-after-precopy without --postcopy',
        /--postcopy-after-precopy requires --postcopy/,
        ['--live', '--postcopy-after-precopy', 'r', b.uri],
      ],
      [
        '--parallel-connections without --parallel',
        /--parallel-connections requires --parallel/,
        ['--live', '--parallel-connections', '4', 'r', b.uri],
      ],
      [
        '--auto-converge-initial without --auto-converge',
        /require --auto-converge/,
        ['--live', '--auto-converge-initial', '50', 'r', b.uri],
      ],
      ['the same host', /same host/, ['--live', 'r', a.uri]],
    ];
    for (const [name, pattern, args] of cases) await t.test(name, () => refused(pattern, args));

    // The destination already has a domain of that name.
    const withOnDestination = async (
      how: 'create' | 'define',
      uuidOnB: string | undefined,
      check: (listB: string) => Promise<void>,
    ): Promise<void> => {
      const xml = guestXml({
        name: 'r',
        serialLog: join(b.dir, 'r.log'),
        ...(uuidOnB === undefined ? {} : { uuid: uuidOnB }),
      });
      await b.ferryOk(how, b.file('r.xml', xml));
      try {
        await check(await b.ferryOk('list', '--all'));
      } finally {
        if (how === 'create') await b.ferryOk('destroy', 'r');
        else await b.ferryOk('undefine', 'r');
      }
    };
    await t.test('the destination runs a domain of that name', () =>
      withOnDestination('create', undefined, (listB) =>
        refused(/domain 'r' already exists with uuid/, ['--live', 'r', b.uri], listB),
      ),
    );
    await t.test('the destination runs this very domain (same UUID)', () =>
      withOnDestination('create', uuid, (listB) =>
        refused(/domain 'r' is already active/, ['--live', 'r', b.uri], listB),
      ),
    );
    await t.test('the destination has a shut-off definition of that name, another UUID', () =>
      withOnDestination('define', undefined, async (listB) => {
        const mine = await uuidOf(b, 'r');
        await refused(
          /domain 'r' already exists with uuid/,
          ['--live', '--persistent', 'r', b.uri],
          listB,
        );
        await refused(
          /domain 'r' already exists with uuid/,
          ['--offline', '--persistent', 'r', b.uri],
          listB,
        );
        assert.equal(await uuidOf(b, 'r'), mine, 'its definition is untouched');
      }),
    );
    assert.deepEqual(qemuPids(b.runDir), [], 'no QEMU left on the destination');
    await keepsBeating(serial);
    assertOneLife(serial);
  },
);
