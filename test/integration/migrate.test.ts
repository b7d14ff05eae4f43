/**
 * Live and offline migration between two ferryd on this machine, as the chapter runs it:
 * `ferry migrate --live --persistent VM URI`. The guest's own heartbeat must continue on the
 * destination (same sequence, same boot) with no corrupted page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { guestXml, waitForHeartbeat } from '../helpers/guest.js';
import { assertOneLife, keepsBeating, twoHosts, waitForStatusPid } from '../helpers/migration.js';

test(
  'live migration with --persistent moves a dirtying guest without losing a beat, and back and forth',
  { timeout: 180_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = join(a.dir, 'vm-serial.log');
    await a.ferryOk(
      'define',
      a.file(
        'vm.xml',
        guestXml({ name: 'vm', serialLog: serial, hbMs: 200, dirtyMiB: 32, dirtyRate: 10 }),
      ),
    );
    await a.ferryOk('start', 'vm');
    await waitForHeartbeat(serial, { pred: (hb) => hb.dirtiedMib >= 32 });

    const out = await a.ferry('migrate', '--live', '--persistent', 'vm', b.uri);
    assert.equal(out.code, 0, out.stderr);
    assert.match(await b.ferryOk('list', '--all'), /^ 1 +vm +running$/m);
    assert.match(await a.ferryOk('list', '--all'), /^ - +vm +shut off$/m);
    assert.equal(await a.ferryOk('domstate', 'vm', '--reason'), 'shut off (migrated)\n\n');
    assert.equal(await b.ferryOk('domstate', 'vm', '--reason'), 'running (migrated)\n\n');
    assert.match(await b.ferryOk('dominfo', 'vm'), /^Persistent: {5}yes$/m);
    await keepsBeating(serial);
    assertOneLife(serial);
    const done = await a.ferryOk('domjobinfo', 'vm', '--completed');
    assert.match(done, /^Job type: +Completed/m);
    assert.match(done, /^Total downtime: +\d+ +ms$/m);

    // Back and forth: four more hops, five in all, one boot throughout.
    for (let hop = 0; hop < 4; hop++) {
      const [from, to] = hop % 2 === 0 ? [b, a] : [a, b];
      const r = await from.ferry('migrate', '--live', '--persistent', 'vm', to.uri);
      assert.equal(r.code, 0, `hop ${hop + 2}: ${r.stderr}`);
      await keepsBeating(serial, 2);
    }
    assert.match(await b.ferryOk('list'), /vm +running/);
    assertOneLife(serial);
    await b.ferryOk('destroy', 'vm');
  },
);

test(
  'default semantics: transient on the destination, still defined on the source; --undefinesource removes it',
  { timeout: 180_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = join(a.dir, 't-serial.log');
    await a.ferryOk('define', a.file('t.xml', guestXml({ name: 't', serialLog: serial })));
    await a.ferryOk('start', 't');
    await waitForHeartbeat(serial);
    assert.equal((await a.ferry('migrate', '--live', 't', b.uri)).code, 0);
    assert.match(await b.ferryOk('dominfo', 't'), /^Persistent: {5}no$/m);
    assert.match(await a.ferryOk('list', '--all'), /^ - +t +shut off$/m);
    await keepsBeating(serial);

    // Back with --persistent --undefinesource: the source (b) keeps nothing, not even a definition.
    await a.ferryOk('undefine', 't');
    const r = await b.ferry('migrate', '--live', '--persistent', '--undefinesource', 't', a.uri);
    assert.equal(r.code, 1, 'a transient domain has no definition to remove');
    assert.match(r.stderr, /--undefinesource cannot be used on a transient domain/);
    assert.equal((await b.ferry('migrate', '--live', '--persistent', 't', a.uri)).code, 0);
    assert.equal(
      (await a.ferry('migrate', '--live', '--persistent', '--undefinesource', 't', b.uri)).code,
      0,
    );
    assert.equal(await a.ferryOk('list', '--all'), ' Id   Name   State\n--------------------\n\n');
    assert.match(await b.ferryOk('list', '--all'), /t +running/);
    await keepsBeating(serial);
    assertOneLife(serial);
    await b.ferryOk('destroy', 't');
  },
);

test(
  'offline migration moves only the definition; parallel connections carry a live one',
  { timeout: 180_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = join(a.dir, 'o-serial.log');
    const xmlFile = a.file('o.xml', guestXml({ name: 'o', serialLog: serial }));
    await a.ferryOk('define', xmlFile);
    assert.equal((await a.ferry('migrate', '--offline', '--persistent', 'o', b.uri)).code, 0);
    assert.match(await b.ferryOk('list', '--all'), /^ - +o +shut off$/m);
    assert.match(await a.ferryOk('list', '--all'), /^ - +o +shut off$/m);
    await b.ferryOk('undefine', 'o');

    await a.ferryOk('start', 'o');
    await waitForHeartbeat(serial);
    const r = await a.ferry(
      'migrate',
      '--live',
      '--persistent',
      '--parallel',
      '--parallel-connections',
      '4',
      'o',
      b.uri,
    );
    assert.equal(r.code, 0, r.stderr);
    await keepsBeating(serial);
    assertOneLife(serial);
    await b.ferryOk('destroy', 'o');
  },
);

test(
  'impossible requests are refused before anything starts, naming the problem',
  { timeout: 180_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = join(a.dir, 'r-serial.log');
    await a.ferryOk('define', a.file('r.xml', guestXml({ name: 'r', serialLog: serial })));
    const refused = async (pattern: RegExp, ...args: string[]): Promise<void> => {
      const r = await a.ferry('migrate', ...args);
      assert.equal(r.code, 1, `${args.join(' ')} must fail`);
      assert.match(r.stderr, /^error: /);
      assert.match(r.stderr, pattern);
    };
    await refused(/not running/, '--live', 'r', b.uri);
    await a.ferryOk('start', 'r');
    await waitForHeartbeat(serial);
    await refused(
      /--live and --offline are mutually exclusive/,
      '--live',
      '--offline',
      '--persistent',
      'r',
      b.uri,
    );
    await refused(
      /--postcopy and --parallel cannot be combined/,
      '--live',
      '--postcopy',
      '--parallel',
      'r',
      b.uri,
    );
    await refused(/require --timeout/, '--live', '--timeout-suspend', 'r', b.uri);
    await refused(/failed to get domain 'ghost'/, '--live', 'ghost', b.uri);
    await refused(/Invalid connection URI 'nowhere'/, '--live', 'r', 'nowhere');
    await refused(
      /Cannot reach destination .*No such file or directory/,
      '--live',
      'r',
      'qemu+unix:///system?socket=/nonexistent/sock',
    );
    await refused(/same host/, '--live', 'r', a.uri);
    // The destination already runs a domain of that name.
    const other = join(b.dir, 'r2.log');
    await b.ferryOk('create', b.file('r2.xml', guestXml({ name: 'r', serialLog: other })));
    await refused(/already/, '--live', 'r', b.uri);
    // Nothing changed: the guest still runs on a, the destination has only its own domain.
    assert.match(await a.ferryOk('list'), /r +running/);
    assert.equal((await b.ferryOk('list', '--all', '--name')).trim(), 'r');
    await keepsBeating(serial);
    assertOneLife(serial);
  },
);

test(
  'domjobinfo during a job, max downtime applied live, domjobabort leaves the guest on the source',
  { timeout: 180_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = join(a.dir, 'j-serial.log');
    await a.ferryOk(
      'define',
      a.file(
        'j.xml',
        guestXml({ name: 'j', serialLog: serial, hbMs: 200, dirtyMiB: 32, dirtyRate: 10 }),
      ),
    );
    await a.ferryOk('start', 'j');
    await waitForHeartbeat(serial, { pred: (hb) => hb.dirtiedMib >= 32 });
    // 5 MiB/s against 10 MiB/s of dirtying: never converges, so it is still running when asked.
    const job = a.ferry('migrate', '--live', '--bandwidth', '5', 'j', b.uri);
    let info = '';
    for (let i = 0; i < 100 && !/Job type: +Unbounded/.test(info); i++) {
      await new Promise((r) => setTimeout(r, 100));
      info = await a.ferryOk('domjobinfo', 'j');
    }
    assert.match(info, /^Job type: +Unbounded/m);
    assert.match(info, /^Operation: +Outgoing migration/m);
    assert.match(await b.ferryOk('domstate', 'j', '--reason'), /^paused \(migrating\)/);

    // Set during the job; migrate-getmaxdowntime reads it back from QEMU's own parameters.
    await a.ferryOk('migrate-setmaxdowntime', 'j', '123');
    assert.match(await a.ferryOk('migrate-getmaxdowntime', 'j'), /^123\n/);

    await a.ferryOk('domjobabort', 'j');
    const r = await job;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /operation aborted/);
    assert.match(await a.ferryOk('domstate', 'j', '--reason'), /^running/);
    assert.equal(await b.ferryOk('list', '--all'), ' Id   Name   State\n--------------------\n\n');
    assert.match(await a.ferryOk('domjobinfo', 'j', '--completed'), /^Job type: +Cancelled/m);
    await keepsBeating(serial);
    assertOneLife(serial);
  },
);

test(
  'a destination QEMU killed mid-job leaves the guest running on the source',
  { timeout: 180_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = join(a.dir, 'k-serial.log');
    await a.ferryOk(
      'define',
      a.file(
        'k.xml',
        guestXml({ name: 'k', serialLog: serial, hbMs: 200, dirtyMiB: 32, dirtyRate: 10 }),
      ),
    );
    await a.ferryOk('start', 'k');
    await waitForHeartbeat(serial, { pred: (hb) => hb.dirtiedMib >= 32 });
    const job = a.ferry('migrate', '--live', '--bandwidth', '5', 'k', b.uri);
    const pid = await waitForStatusPid(b);
    await new Promise((r) => setTimeout(r, 500));
    process.kill(pid, 'SIGKILL');
    const r = await job;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: /);
    assert.match(await a.ferryOk('domstate', 'k', '--reason'), /^running/);
    await keepsBeating(serial);
    assertOneLife(serial);
    assert.doesNotMatch(await b.ferryOk('list', '--all'), /k/);
  },
);

test(
  'post-copy after a timeout finishes a migration that pre-copy alone cannot',
  { timeout: 180_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = join(a.dir, 'p-serial.log');
    // 10 MiB/s of dirtying against a 4 MiB/s stream: plain pre-copy never converges.
    await a.ferryOk(
      'define',
      a.file(
        'p.xml',
        guestXml({ name: 'p', serialLog: serial, hbMs: 200, dirtyMiB: 32, dirtyRate: 10 }),
      ),
    );
    await a.ferryOk('start', 'p');
    await waitForHeartbeat(serial, { pred: (hb) => hb.dirtiedMib >= 32 });

    const post = await a.ferry(
      'migrate',
      '--live',
      '--persistent',
      '--postcopy',
      '--timeout',
      '3',
      '--timeout-postcopy',
      '--bandwidth',
      '4',
      'p',
      b.uri,
    );
    assert.equal(post.code, 0, post.stderr);
    assert.equal(await b.ferryOk('domstate', 'p', '--reason'), 'running (migrated)\n\n');
    await keepsBeating(serial);
    assertOneLife(serial);

    await b.ferryOk('destroy', 'p');
  },
);
