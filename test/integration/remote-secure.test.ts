/**
 * The authenticated transports between real network peers: two testbed hosts with TLS
 * certificates from `ferry tls-setup` and SASL accounts from `ferry auth-add`, migrating over
 * `qemu+tls://` and logged-in `qemu+tcp://`, and with `migrate --tls` (QEMU's own TLS on the
 * stream).
 * @module
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Testbed, TestbedHost } from '../../src/testbed/index.js';
import { assertOneLife, jobField, keepsBeating } from '../helpers/migration.js';
import {
  execOk as ok,
  listOf,
  secureHosts,
  SECURE_CONFIG,
  startGuestOn,
} from '../helpers/remote.js';
import { useTestbed } from '../helpers/testbed.js';

const tlsUri = (h: TestbedHost): string => `qemu+tls://${h.name}/system`;

/** Two hosts whose ferryd require a SASL login on TCP and a client certificate on TLS. */
async function secureTestbed(t: TestContext): Promise<{ tb: Testbed; pki: string }> {
  const tb = await useTestbed(t, { hosts: 2, ferryd: false, extraConfig: SECURE_CONFIG });
  const pki = mkdtempSync(join(tmpdir(), 'ferry-pki-'));
  t.after(() => rmSync(pki, { recursive: true, force: true }));
  await secureHosts(tb, pki);
  return { tb, pki };
}

test(
  'live and offline migration over qemu+tls and logged-in qemu+tcp; migrate --tls encrypts the stream',
  { timeout: 300_000 },
  async (t) => {
    const { tb, pki } = await secureTestbed(t);
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    const serial = await startGuestOn(t, h1, { name: 'vm', hbMs: 200 });
    await startGuestOn(t, h1, { name: 'cold' }, false);

    // Over TLS (the source's client certificate is its credential), live and offline.
    await h1.ferryOk('migrate', '--live', '--persistent', '--undefinesource', 'vm', tlsUri(h2));
    await h1.ferryOk(
      'migrate',
      '--offline',
      '--persistent',
      '--undefinesource',
      'cold',
      tlsUri(h2),
    );
    assert.deepEqual(await listOf(h2, tlsUri(h2)), [
      ['vm', 'running'],
      ['cold', 'shut off'],
    ]);
    assert.deepEqual(await listOf(h1), []);
    await keepsBeating(serial);

    // Back over TCP with a SASL login (the source's /etc/ferry/auth.conf), live and offline.
    await h2.ferryOk('migrate', '--live', '--persistent', '--undefinesource', 'vm', h1.tcpUri);
    await h2.ferryOk('migrate', '--offline', '--persistent', '--undefinesource', 'cold', h1.tcpUri);
    assert.deepEqual(await listOf(h1, h1.tcpUri), [
      ['vm', 'running'],
      ['cold', 'shut off'],
    ]);
    await keepsBeating(serial);

    // migrate --tls: QEMU's stream under TLS with the same certificates.
    await h1.ferryOk(
      'migrate',
      '--live',
      '--persistent',
      '--undefinesource',
      '--tls',
      'vm',
      tlsUri(h2),
    );
    const done = await h2.ferryOk('domjobinfo', 'vm', '--completed');
    assert.equal(jobField(done, 'Job type'), 'Completed');
    await keepsBeating(serial);

    // The stream really is TLS: give the destination QEMU certificates from another CA (each
    // side's own set is consistent, so both QEMUs accept their credentials); the handshake then
    // fails, the migration with it, and the guest stays where it was.
    const other = mkdtempSync(join(tmpdir(), 'ferry-pki-other-'));
    t.after(() => rmSync(other, { recursive: true, force: true }));
    await ok(h2, ['ferry', 'tls-setup', '--dir', other, `${h1.name},${h1.address}`]);
    const qemuDir = join(h1.paths.pki, 'qemu');
    const useSet = (dir: string): void => {
      for (const f of [
        'ca-cert.pem',
        'server-cert.pem',
        'server-key.pem',
        'client-cert.pem',
        'client-key.pem',
      ])
        copyFileSync(join(dir, h1.name, 'pki', 'qemu', f), join(qemuDir, f));
    };
    useSet(other);
    const refused = await h2.ferry('migrate', '--live', '--persistent', '--tls', 'vm', tlsUri(h1));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: .*(TLS|certificate|handshake)/im);
    t.diagnostic(`refused: ${refused.stderr.trim()}`);
    assert.deepEqual(await listOf(h2), [['vm', 'running']]);
    assert.deepEqual(await listOf(h1), [['cold', 'shut off']]);
    await keepsBeating(serial);

    // With the right CA back, the same command works: nothing stale was left behind.
    useSet(pki);
    await h2.ferryOk(
      'migrate',
      '--live',
      '--persistent',
      '--undefinesource',
      '--tls',
      'vm',
      tlsUri(h1),
    );
    assert.deepEqual(await listOf(h1), [
      ['vm', 'running'],
      ['cold', 'shut off'],
    ]);
    await keepsBeating(serial);
    assertOneLife(serial);
  },
);
