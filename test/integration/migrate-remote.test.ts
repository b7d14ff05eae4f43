/**
 * Live migration over the authenticated remote transports, peer to peer: the source ferryd
 * reaches the destination over qemu+tls:// with its client certificate (pkipath=), then the
 * guest comes back over qemu+tcp:// with a SASL login (authfile=). The guest's own heartbeat
 * continues with no corrupted page, and each destination's QEMU listens on the address its
 * source dialled, learned from the tls or tcp connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FERRY, TCP_TEST_ADDR, run, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { assertOneLife, keepsBeating, startGuest } from '../helpers/migration.js';
import { makePki } from '../helpers/pki.js';

/** The stream URI of the last migration `host` started as the source (its log says it). */
function lastStreamUri(host: TestDaemon): string | undefined {
  const started = host
    .log()
    .split('\n')
    .filter((l) => l.includes('"msg":"migration started"'))
    .map((l) => (JSON.parse(l) as { uri?: string }).uri);
  return started.at(-1);
}

void test(
  'live migration over qemu+tls:// and back over qemu+tcp:// with a login keeps the guest beating',
  { timeout: 300_000 },
  async (t) => {
    const pki = await makePki(t, [`a,${TCP_TEST_ADDR}`, `b,${TCP_TEST_ADDR}`]);
    const dir = mkdtempSync(join(tmpdir(), 'ferry-remote-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const users = join(dir, 'users');
    const add = await run(
      process.execPath,
      [FERRY, 'auth-add', 'mig', '--file', users],
      process.env,
      'secret',
    );
    assert.equal(add.code, 0, add.stderr);

    // a: TCP with logins; b: TLS, letting in a's client certificate only.
    const a = await startDaemon(t, {
      tcp: true,
      tcpAuth: 'sasl',
      configText: `auth_users_file = "${users}"\n`,
    });
    const b = await startDaemon(t, {
      tls: { pki: pki.hostPki('b'), allowedDns: ['C=GB,O=Ferry,CN=a'] },
    });
    const serial = await startGuest(a, { name: 'vm', hbMs: 200, dirtyMiB: 32, dirtyRate: 10 });

    // a → b over TLS: a's ferryd presents a's client certificate.
    const toB = `${b.tlsUri}?pkipath=${pki.clientDir('a')}`;
    const out = await a.ferry('migrate', '--live', '--persistent', 'vm', toB);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(await b.ferryOk('domstate', 'vm', '--reason'), 'running (migrated)\n\n');
    assert.match(await a.ferryOk('list', '--all'), /^ - +vm +shut off$/m);
    // b's QEMU listened where a reached b, which b learned from the TLS connection.
    assert.match(
      lastStreamUri(a) ?? '',
      new RegExp(`^tcp:${TCP_TEST_ADDR.replace(/\./g, '\\.')}:\\d+$`),
    );
    await keepsBeating(serial);
    assertOneLife(serial);

    // b → a without credentials: refused before anything starts, the guest stays on b.
    const refused = await b.ferry('migrate', '--live', '--persistent', 'vm', a.tcpUri);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `Cannot log in to destination ${a.tcpUri.replace(/[.+?/]/g, '\\$&')}: authentication failed: no credentials for ${TCP_TEST_ADDR.replace(/\./g, '\\.')} \\(add them to /etc/ferry/auth\\.conf, see README\\)`,
      ),
    );
    assert.equal(await b.ferryOk('domstate', 'vm'), 'running\n\n');

    // b → a over TCP with a login from the URI's authfile.
    const authConf = b.file(
      'auth.conf',
      '[credentials-m]\nauthname=mig\npassword=secret\n[auth-libvirt-default]\ncredentials=m\n',
    );
    const back = await b.ferry(
      'migrate',
      '--live',
      '--persistent',
      'vm',
      `${a.tcpUri}?authfile=${authConf}`,
    );
    assert.equal(back.code, 0, back.stderr);
    assert.equal(await a.ferryOk('domstate', 'vm', '--reason'), 'running (migrated)\n\n');
    assert.match(
      lastStreamUri(b) ?? '',
      new RegExp(`^tcp:${TCP_TEST_ADDR.replace(/\./g, '\\.')}:\\d+$`),
    );
    assert.match(a.log(), /"user":"mig","msg":"client authenticated"/);
    await keepsBeating(serial);
    assertOneLife(serial);
    await a.ferryOk('destroy', 'vm');
  },
);
