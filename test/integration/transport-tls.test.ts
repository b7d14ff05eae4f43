/**
 * qemu+tls://: certificates made by `ferry tls-setup`, mutual TLS between ferry and ferryd.
 * A good client works (a real `ferry list`); a client without a certificate, with one from
 * another CA, or with a DN not in tls_allowed_dn_list is refused with one clear line and
 * logged by the daemon, which keeps serving; a server whose certificate is not for the name
 * dialled is refused by the client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate, type KeyPair } from '../../src/pki/openssl.js';
import { hostSubject } from '../../src/pki/setup.js';
import { FERRY, TCP_TEST_ADDR, run, startDaemon, type CliResult } from '../helpers/daemon.js';
import { guestXml } from '../helpers/guest.js';
import { EMPTY_LIST } from '../helpers/migration.js';
import { makePki } from '../helpers/pki.js';

const CONNECT_FAILED = 'error: failed to connect to the hypervisor\n';

/** `ferry -c URI ARGS…` with no auth file from the machine running the tests. */
function ferryAt(uri: string, ...args: string[]): Promise<CliResult> {
  const env = { ...process.env, XDG_CONFIG_HOME: '/nonexistent', FERRY_AUTH_FILE: '' };
  return run(process.execPath, [FERRY, '-c', uri, ...args], env);
}

/** The 'TLS client refused' lines of a daemon's log. */
function refusals(log: string): { peer: string; reason: string; dn?: string }[] {
  return log
    .split('\n')
    .filter((l) => l.includes('"msg":"TLS client refused"'))
    .map((l) => JSON.parse(l) as { peer: string; reason: string; dn?: string });
}

void test(
  'tls-setup makes a CA and host sets in libvirt and QEMU layouts, and installs one',
  { timeout: 120_000 },
  async (t) => {
    const pki = await makePki(t, ['hosta,127.0.0.2', 'hostb.example.com,10.0.0.2,hostb']);
    const a = pki.hostPki('hosta');
    const files = [
      'CA/cacert.pem',
      'libvirt/servercert.pem',
      'libvirt/clientcert.pem',
      'libvirt/private/serverkey.pem',
      'libvirt/private/clientkey.pem',
      'qemu/ca-cert.pem',
      'qemu/server-cert.pem',
      'qemu/server-key.pem',
      'qemu/client-cert.pem',
      'qemu/client-key.pem',
    ];
    for (const f of files) {
      assert.ok(existsSync(join(a, f)), f);
      assert.equal(statSync(join(a, f)).mode & 0o777, /key/.test(f) ? 0o600 : 0o644, f);
    }
    assert.equal(statSync(join(pki.dir, 'ca', 'private', 'cakey.pem')).mode & 0o777, 0o600);
    // What openssl itself says of them: signed by the CA, for the right use, with the SANs.
    const openssl = (...args: string[]): string =>
      execFileSync('openssl', args, { encoding: 'utf8' });
    const ca = join(pki.dir, 'ca', 'cacert.pem');
    const b = pki.hostPki('hostb.example.com');
    assert.match(
      openssl('verify', '-CAfile', ca, '-purpose', 'sslserver', join(b, 'libvirt/servercert.pem')),
      /: OK/,
    );
    assert.match(
      openssl('verify', '-CAfile', ca, '-purpose', 'sslclient', join(b, 'libvirt/clientcert.pem')),
      /: OK/,
    );
    const text = openssl(
      'x509',
      '-noout',
      '-subject',
      '-ext',
      'subjectAltName',
      '-in',
      join(b, 'libvirt/servercert.pem'),
    );
    assert.match(text, /subject=C = GB, O = Ferry, CN = hostb\.example\.com/);
    assert.match(text, /DNS:hostb\.example\.com, IP Address:10\.0\.0\.2, DNS:hostb/);
    assert.equal(
      readFileSync(join(b, 'qemu/server-key.pem'), 'utf8'),
      readFileSync(join(b, 'libvirt/private/serverkey.pem'), 'utf8'),
    );

    // An existing CA is not replaced without --force; bad host names change nothing.
    const again = await run(process.execPath, [FERRY, 'tls-setup', '--dir', pki.dir, 'hostc']);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      `error: A CA already exists in '${join(pki.dir, 'ca')}'; pass --force to replace it (every host then needs its new certificates)\n`,
    );
    assert.equal(existsSync(join(pki.dir, 'hostc')), false);
    const bad = await run(process.execPath, [
      FERRY,
      'tls-setup',
      '--dir',
      pki.dir,
      '--force',
      'a b',
    ]);
    assert.equal(
      bad.stderr,
      "error: Invalid host 'a b': 'a b' is neither a host name nor an IP address (expected NAME[,IP]…)\n",
    );
    assert.equal(
      readFileSync(ca, 'utf8'),
      readFileSync(join(a, 'CA/cacert.pem'), 'utf8'),
      'CA unchanged',
    );

    // --install HOST writes that host's set into the pki root, and refuses a different CA there.
    const root = mkdtempSync(join(tmpdir(), 'ferry-pkiroot-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const install = await run(process.execPath, [
      FERRY,
      'tls-setup',
      '--dir',
      pki.dir,
      '--install',
      'hosta',
      '--pki-root',
      root,
    ]);
    assert.equal(install.code, 0, install.stderr);
    for (const f of files)
      assert.equal(readFileSync(join(root, f), 'utf8'), readFileSync(join(a, f), 'utf8'), f);
    assert.equal(statSync(join(root, 'libvirt/private/clientkey.pem')).mode & 0o777, 0o600);
    const other = await makePki(t, ['hosta']);
    const clash = await run(process.execPath, [
      FERRY,
      'tls-setup',
      '--dir',
      other.dir,
      '--install',
      'hosta',
      '--pki-root',
      root,
    ]);
    assert.equal(clash.code, 1);
    assert.match(
      clash.stderr,
      /^error: '.*\/CA\/cacert\.pem' holds a different CA; pass --force to replace it/,
    );
    assert.equal(readFileSync(join(root, 'CA/cacert.pem'), 'utf8'), readFileSync(ca, 'utf8'));
  },
);

void test(
  'qemu+tls://: a good client works; no, foreign or unlisted certificates and a wrong server name are refused',
  { timeout: 180_000 },
  async (t) => {
    const pki = await makePki(t, [`dst,${TCP_TEST_ADDR}`, 'src', 'wrongname,127.0.0.9']);
    const foreign = await makePki(t, ['intruder']);
    const d = await startDaemon(t, {
      tls: { pki: pki.hostPki('dst'), allowedDns: ['C=GB,O=Ferry,CN=s*'] },
    });
    const port = /:(\d+)\/system$/.exec(d.tlsUri)?.[1] ?? '';
    const uri = (dir: string): string => `${d.tlsUri}?pkipath=${dir}`;

    // The good client: a real list, a define seen through the unix socket too.
    const good = pki.clientDir('src');
    const list = await ferryAt(uri(good), 'list', '--all');
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, EMPTY_LIST);
    const xml = d.file('d.xml', guestXml({ name: 'd', serialLog: join(d.dir, 'd.log') }));
    assert.equal((await ferryAt(uri(good), 'define', xml)).code, 0);
    assert.match(await d.ferryOk('list', '--all'), /^ - +d +shut off$/m);

    // No client certificate.
    const caOnly = pki.clientDir('src', ['ca']);
    const noCert = await ferryAt(uri(caOnly), 'list');
    assert.equal(noCert.code, 1);
    assert.equal(
      noCert.stderr,
      `${CONNECT_FAILED}error: authentication failed: the server requires a TLS client certificate and none was sent (no client certificate at '${join(caOnly, 'clientcert.pem')}')\n`,
    );

    // A certificate from another CA.
    const intruder = foreign.clientDir('intruder', ['cert', 'key']);
    copyFileSync(join(pki.hostPki('src'), 'CA', 'cacert.pem'), join(intruder, 'cacert.pem'));
    const otherCa = await ferryAt(uri(intruder), 'list');
    assert.equal(
      otherCa.stderr,
      `${CONNECT_FAILED}error: authentication failed: the server does not trust the CA that signed the client certificate\n`,
    );

    // A good certificate whose DN is not in tls_allowed_dn_list.
    const unlisted = await ferryAt(uri(pki.clientDir('dst')), 'list');
    assert.equal(
      unlisted.stderr,
      `${CONNECT_FAILED}error: authentication failed: client certificate DN 'C=GB,O=Ferry,CN=dst' is not in the server's tls_allowed_dn_list\n`,
    );

    // The daemon logged each refusal with the peer's address, and still serves.
    assert.deepEqual(
      refusals(d.log()).map((r) => [r.reason, r.dn]),
      [
        ['the server requires a TLS client certificate and none was sent', undefined],
        [
          'the server does not trust the CA that signed the client certificate',
          'C=GB,O=Ferry,CN=intruder',
        ],
        [
          "client certificate DN 'C=GB,O=Ferry,CN=dst' is not in the server's tls_allowed_dn_list",
          'C=GB,O=Ferry,CN=dst',
        ],
      ],
    );
    for (const r of refusals(d.log())) assert.match(r.peer, /^tls:127\.0\.0\.\d+:\d+$/);
    assert.match((await ferryAt(uri(good), 'list', '--all')).stdout, /^ - +d +shut off$/m);

    // A server whose certificate is for another name: the client refuses it, the server logs it.
    const w = await startDaemon(t, { tls: { pki: pki.hostPki('wrongname') } });
    const wPort = /:(\d+)\/system$/.exec(w.tlsUri)?.[1] ?? '';
    const mismatch = await ferryAt(`${w.tlsUri}?pkipath=${good}`, 'list');
    assert.equal(
      mismatch.stderr,
      `${CONNECT_FAILED}error: Server certificate of ${TCP_TEST_ADDR}:${wPort} is not valid for '${TCP_TEST_ADDR}' (IP: ${TCP_TEST_ADDR} is not in the cert's list: 127.0.0.9)\n`,
    );
    // A server from another CA altogether.
    const strangeCa = pki.clientDir('src', ['cert', 'key']);
    copyFileSync(
      join(foreign.hostPki('intruder'), 'CA', 'cacert.pem'),
      join(strangeCa, 'cacert.pem'),
    );
    const unknownServer = await ferryAt(uri(strangeCa), 'list');
    assert.equal(
      unknownServer.stderr,
      `${CONNECT_FAILED}error: Server certificate of ${TCP_TEST_ADDR}:${port} is not signed by the CA in '${join(strangeCa, 'cacert.pem')}'\n`,
    );
    await waitForLog(() => refusals(w.log()).length > 0);
    assert.match(refusals(w.log())[0]?.reason ?? '', /client hung up during the TLS handshake/);
    // no_verify=1 connects anyway, and says what that means.
    const noVerify = await ferryAt(`${w.tlsUri}?pkipath=${good}&no_verify=1`, 'list');
    assert.equal(noVerify.code, 0, noVerify.stderr);
    assert.equal(
      noVerify.stderr,
      `warning: no_verify=1: the certificate of ${TCP_TEST_ADDR} is not checked, so anyone on the network path can pose as it\n`,
    );
    assert.equal((await ferryAt(uri(good), 'list')).code, 0);
  },
);

void test(
  'auth_tls = "sasl": a certificate and a login are both needed',
  { timeout: 120_000 },
  async (t) => {
    const pki = await makePki(t, [`dst,${TCP_TEST_ADDR}`, 'src']);
    const dir = mkdtempSync(join(tmpdir(), 'ferry-tlsauth-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const users = join(dir, 'users');
    assert.equal(
      (await run(process.execPath, [FERRY, 'auth-add', 'fred', '--file', users], process.env, 'pw'))
        .code,
      0,
    );
    const d = await startDaemon(t, {
      tls: { pki: pki.hostPki('dst'), auth: 'sasl' },
      configText: `auth_users_file = "${users}"\n`,
    });
    const good = pki.clientDir('src');
    const noLogin = await ferryAt(`${d.tlsUri}?pkipath=${good}`, 'list');
    assert.equal(
      noLogin.stderr,
      `${CONNECT_FAILED}error: authentication failed: no credentials for ${TCP_TEST_ADDR} (add them to ~/.config/ferry/auth.conf, see README)\n`,
    );
    const authConf = d.file(
      'auth.conf',
      '[credentials-f]\nauthname=fred\npassword=pw\n[auth-ferry-default]\ncredentials=f\n',
    );
    const ok = await ferryAt(`${d.tlsUri}?pkipath=${good}&authfile=${authConf}`, 'list');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, ' Id   Name   State\n--------------------\n\n');
  },
);

async function waitForLog(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) assert.fail('the expected log line never came');
    await new Promise((r) => setTimeout(r, 50));
  }
}

void test(
  'expired certificates are refused on either side, in one line',
  { timeout: 120_000 },
  async (t) => {
    const pki = await makePki(t, [`dst,${TCP_TEST_ADDR}`, 'src']);
    const ca: KeyPair = {
      cert: readFileSync(join(pki.dir, 'ca', 'cacert.pem'), 'utf8'),
      key: readFileSync(join(pki.dir, 'ca', 'private', 'cakey.pem'), 'utf8'),
    };
    // openssl's -days -1: valid until a day before it was made.
    const expired = (cn: string, use: 'server' | 'client'): Promise<KeyPair> =>
      issueCertificate(ca, {
        subject: hostSubject(cn),
        altNames: use === 'server' ? [TCP_TEST_ADDR] : [],
        use,
        days: -1,
      });

    // A client certificate that has expired: refused by the server, which logs it.
    const d = await startDaemon(t, { tls: { pki: pki.hostPki('dst') } });
    const old = pki.clientDir('src', ['ca']);
    const client = await expired('src', 'client');
    writeFileSync(join(old, 'clientcert.pem'), client.cert);
    writeFileSync(join(old, 'clientkey.pem'), client.key);
    const oldClient = await ferryAt(`${d.tlsUri}?pkipath=${old}`, 'list');
    assert.equal(
      oldClient.stderr,
      `${CONNECT_FAILED}error: authentication failed: the client certificate has expired\n`,
    );
    assert.deepEqual(
      refusals(d.log()).map((r) => r.reason),
      ['the client certificate has expired'],
    );

    // A server certificate that has expired: refused by the client.
    const serverPki = join(pki.dir, 'expired-dst');
    cpSync(pki.hostPki('dst'), serverPki, { recursive: true });
    const server = await expired('dst', 'server');
    writeFileSync(join(serverPki, 'libvirt', 'servercert.pem'), server.cert);
    writeFileSync(join(serverPki, 'libvirt', 'private', 'serverkey.pem'), server.key);
    const e = await startDaemon(t, { tls: { pki: serverPki } });
    const ePort = /:(\d+)\/system$/.exec(e.tlsUri)?.[1] ?? '';
    const oldServer = await ferryAt(`${e.tlsUri}?pkipath=${pki.clientDir('src')}`, 'list');
    assert.equal(
      oldServer.stderr,
      `${CONNECT_FAILED}error: Server certificate of ${TCP_TEST_ADDR}:${ePort} has expired\n`,
    );
    assert.equal((await ferryAt(`${d.tlsUri}?pkipath=${pki.clientDir('src')}`, 'list')).code, 0);
  },
);
