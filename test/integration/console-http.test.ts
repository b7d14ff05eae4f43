/**
 * The web console's server with real ferryd daemons: nothing without a session, sign-in with
 * an account from `ferry auth-add` (CSRF pair, rate limit, cookie flags), index.html with the
 * session's CSRF token, the JSON-RPC WebSocket (Origin and CSRF checked; domain.list and a real
 * guest's domain.event), sign-out closing the socket, HTTPS with the host certificate, and
 * remote hosts relayed to a second ferryd over qemu+tcp.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRpc } from '../../src/rpc/index.js';
import { METHODS } from '../../src/rpc/methods.js';
import {
  consoleRequest,
  consoleUrlOf,
  fixtureWebDir,
  loginForm,
  openSession,
  openSocket,
  refusedUpgrade,
  setCookie,
  signIn,
  type ConsoleTarget,
} from '../helpers/console.js';
import { FERRY, FERRYD, ferrydLayout, run, startDaemon } from '../helpers/daemon.js';
import { guestXml } from '../helpers/guest.js';
import { makePki } from '../helpers/pki.js';

const PASSWORD = 'correct horse';

/** A directory with an accounts file holding `anna` and the fixture front end. */
async function consoleFiles(t: TestContext): Promise<{ dir: string; users: string; web: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-console-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const users = join(dir, 'users');
  const added = await run(
    process.execPath,
    [FERRY, 'auth-add', 'anna', '--file', users],
    process.env,
    `${PASSWORD}\n`,
  );
  assert.equal(added.code, 0, added.stderr);
  return { dir, users, web: fixtureWebDir(dir) };
}

function consoleConfig(files: { users: string; web: string }, extra = ''): string {
  return `console_enabled = 1\nconsole_port = 0\nconsole_web_dir = "${files.web}"\nauth_users_file = "${files.users}"\n${extra}`;
}

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

void test(
  'console: no session, no access; sign-in with its limits; the WebSocket; sign-out',
  { timeout: 180_000 },
  async (t) => {
    const files = await consoleFiles(t);
    const d = await startDaemon(t, { configText: consoleConfig(files) });
    const { url, address } = await consoleUrlOf(d);
    assert.match(address, /^127\.0\.0\.1:\d+$/, 'loopback by default');
    const target: ConsoleTarget = { url };

    // Without a session: pages go to the sign-in, anything else is 401, the socket is refused.
    const root = await consoleRequest(target, '/', { headers: { Accept: 'text/html' } });
    assert.equal(root.status, 303);
    assert.equal(root.headers.location, '/login');
    assert.equal(root.headers['content-security-policy'], CSP);
    assert.equal(root.headers['x-content-type-options'], 'nosniff');
    assert.equal(root.headers['referrer-policy'], 'no-referrer');
    assert.equal(root.headers['x-frame-options'], 'DENY');
    const asset = await consoleRequest(target, '/assets/index-abc123.js');
    assert.equal(asset.status, 401);
    assert.deepEqual(JSON.parse(asset.body), { error: 'sign-in required' });
    assert.equal(await refusedUpgrade(target, {}), 401);
    assert.equal(await refusedUpgrade(target, { cookie: 'ferry_session=forged', csrf: 'x' }), 401);

    // The CSRF pair is required: a form posted without its cookie is refused.
    const form = await loginForm(target);
    const noCookie = await consoleRequest(target, '/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: form.csrf, user: 'anna', password: PASSWORD }).toString(),
    });
    assert.equal(noCookie.status, 403);
    assert.equal(setCookie(noCookie, 'ferry_session'), undefined);

    // Wrong passwords from another client address: 401 and logged; the 6th attempt is 429.
    const other = '127.0.0.3';
    for (let i = 0; i < 5; i++) {
      const wrong = await signIn(target, 'mallory', `guess-${i}`, other);
      assert.equal(wrong.status, 401);
      assert.match(wrong.body, /<p role="alert">Wrong user name or password\.<\/p>/);
      assert.equal(setCookie(wrong, 'ferry_session'), undefined);
    }
    const locked = await signIn(target, 'anna', PASSWORD, other);
    assert.equal(locked.status, 429, 'locked even with the right password, before it is checked');
    assert.match(locked.body, /Too many failed sign-ins; try again in \d+ s\./);
    const failures = d
      .log()
      .split('\n')
      .filter((l) => l.includes('"console sign-in failed"'))
      .map((l) => JSON.parse(l) as { user: string; peer: string; level: number });
    assert.equal(failures.length, 5);
    assert.ok(failures.every((f) => f.user === 'mallory' && f.peer === other && f.level === 40));
    assert.doesNotMatch(d.log(), /guess-/, 'passwords are never logged');

    // The right password from this address: a session cookie with the contract's flags.
    const ok = await signIn(target, 'anna', PASSWORD);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.location, '/');
    const cookie = setCookie(ok, 'ferry_session');
    assert.ok(cookie !== undefined);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
    assert.equal(cookie.attributes, '; Path=/; HttpOnly; SameSite=Strict');
    const session = await openSession(target, 'anna', PASSWORD);
    const index = await consoleRequest(target, '/', { headers: { Cookie: session.cookie } });
    assert.match(index.body, /<meta name="ferry-user" content="anna">/);
    assert.equal(index.headers['cache-control'], 'no-store');
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    const js = await consoleRequest(target, '/assets/index-abc123.js', {
      headers: { Cookie: session.cookie },
    });
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    const escape = await consoleRequest(target, '/assets/%2e%2e/%2e%2e/users', {
      headers: { Cookie: session.cookie },
    });
    assert.equal(escape.status, 404);

    // The WebSocket: a foreign origin or a wrong CSRF token is refused before upgrading.
    assert.equal(
      await refusedUpgrade(target, {
        cookie: session.cookie,
        csrf: session.csrf,
        origin: 'http://evil.example',
      }),
      403,
    );
    assert.equal(await refusedUpgrade(target, { cookie: session.cookie, csrf: 'wrong' }), 403);
    assert.equal(await refusedUpgrade(target, { cookie: session.cookie }), 403);

    // With the session: the same RPC as the CLI, and events of a real guest started elsewhere.
    const socket = await openSocket(target, session);
    const listed = await socket.call('domain.list', { active: true, inactive: true });
    assert.deepEqual(listed, { jsonrpc: '2.0', id: 1, result: { domains: [] } });
    assert.deepEqual((await socket.call('events.subscribe')).result, { subscribed: true });
    const started = socket.notification(
      'domain.event',
      (p) => (p as { event?: string }).event === 'started',
    );
    await d.ferryOk(
      'create',
      d.file('c1.xml', guestXml({ name: 'c1', serialLog: join(d.dir, 'c1.log') })),
    );
    assert.equal(((await started) as { name: string }).name, 'c1');
    const after = (await socket.call('domain.list', { active: true, inactive: true })).result as {
      domains: { name: string }[];
    };
    assert.deepEqual(
      after.domains.map((x) => x.name),
      ['c1'],
    );
    await d.ferryOk('destroy', 'c1');

    // Sign-out needs the session's CSRF token; it ends the session and closes its socket.
    const logout = (
      csrf?: string,
    ): Promise<ReturnType<typeof consoleRequest> extends Promise<infer R> ? R : never> =>
      consoleRequest(target, '/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: session.cookie },
        body: csrf === undefined ? '' : new URLSearchParams({ csrf }).toString(),
      });
    assert.equal((await logout()).status, 403);
    assert.equal((await socket.call('host.info')).error, undefined, 'still signed in');
    const out = await logout(session.csrf);
    assert.equal(out.status, 303);
    assert.equal(out.headers.location, '/login?ended=1');
    assert.equal(setCookie(out, 'ferry_session')?.attributes.includes('Max-Age=0'), true);
    assert.deepEqual(await socket.closed, {
      code: 1008,
      reason: 'Your session has ended; sign in again',
    });
    const gone = await consoleRequest(target, '/', {
      headers: { Cookie: session.cookie, Accept: 'text/html' },
    });
    assert.equal(gone.status, 303);
    const ended = await consoleRequest(target, '/login?ended=1');
    assert.match(ended.body, /<p role="alert">Your session has ended; sign in again\.<\/p>/);
  },
);

void test(
  'console_tls = 1: HTTPS with the host certificate, Secure cookies, wss://',
  { timeout: 120_000 },
  async (t) => {
    const files = await consoleFiles(t);
    const pki = await makePki(t, ['h1,127.0.0.1']);
    const hostPki = pki.hostPki('h1');
    const tlsConfig = `console_tls = 1\nkey_file = "${join(hostPki, 'libvirt', 'private', 'serverkey.pem')}"\ncert_file = "${join(hostPki, 'libvirt', 'servercert.pem')}"\n`;
    const d = await startDaemon(t, { configText: consoleConfig(files, tlsConfig) });
    const { url } = await consoleUrlOf(d);
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    const target: ConsoleTarget = { url, ca: readFileSync(join(hostPki, 'CA', 'cacert.pem')) };
    const form = await consoleRequest(target, '/login');
    assert.match(setCookie(form, 'ferry_login')?.attributes ?? '', /; Secure$/);
    const ok = await signIn(target, 'anna', PASSWORD);
    assert.equal(ok.status, 303);
    assert.equal(
      setCookie(ok, 'ferry_session')?.attributes,
      '; Path=/; HttpOnly; SameSite=Strict; Secure',
    );
    const session = await openSession(target, 'anna', PASSWORD);
    // An http:// origin is not this server's (https://) origin.
    assert.equal(
      await refusedUpgrade(target, {
        cookie: session.cookie,
        csrf: session.csrf,
        origin: url.replace('https', 'http').slice(0, -1),
      }),
      403,
    );
    const socket = await openSocket(target, session);
    assert.deepEqual((await socket.call('domain.list', { active: true, inactive: true })).result, {
      domains: [],
    });
    socket.ws.close();
  },
);

void test(
  'console: a missing certificate or a port in use stops ferryd with error: …',
  { timeout: 60_000 },
  async (t) => {
    const files = await consoleFiles(t);
    const start = async (extra: string): Promise<{ code: number; stderr: string }> => {
      const dir = mkdtempSync(join(tmpdir(), 'ferry-console-bad-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const layout = ferrydLayout(dir, consoleConfig(files, extra));
      return run(process.execPath, [FERRYD, ...layout.args]);
    };
    const missing = join(files.dir, 'nope.pem');
    const noCert = await start(
      `console_tls = 1\nkey_file = "${missing}"\ncert_file = "${missing}"\n`,
    );
    assert.equal(noCert.code, 1);
    assert.match(
      noCert.stderr,
      new RegExp(
        `^error: Cannot read the web console's TLS key '${missing}': No such file or directory$`,
        'm',
      ),
    );
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    // consoleConfig's console_port = 0 comes first; the later line wins.
    const inUse = await start(`console_port = ${port}\n`);
    assert.equal(inUse.code, 1);
    assert.match(
      inUse.stderr,
      new RegExp(
        `^error: Cannot listen on 127\\.0\\.0\\.1:${port} for the web console: Address already in use$`,
        'm',
      ),
    );
  },
);

void test(
  'console: remote hosts are checked, stored, listed, relayed to, and removed',
  { timeout: 180_000 },
  async (t) => {
    const files = await consoleFiles(t);
    const d1 = await startDaemon(t, { configText: consoleConfig(files) });
    const d2 = await startDaemon(t, { tcp: true });
    // A guest defined on d2 only, to tell its answers from d1's.
    await d2.ferryOk(
      'define',
      d2.file('r1.xml', guestXml({ name: 'r1', serialLog: join(d2.dir, 'r1.log') })),
    );
    const { url } = await consoleUrlOf(d1);
    const target: ConsoleTarget = { url };
    const session = await openSession(target, 'anna', PASSWORD);
    const local = await openSocket(target, session);
    const hostsFile = join(d1.stateDir, 'fleet-hosts.json');

    const bad = await local.call('fleet.addHost', { uri: 'http://h2/' });
    assert.equal(bad.error?.code, -32602);
    assert.match(bad.error.message, /^Invalid connection URI 'http:\/\/h2\/'/);
    const closedPort = d2.tcpUri.replace(/:\d+\//, ':1/');
    const unreachable = await local.call('fleet.addHost', { uri: closedPort });
    assert.equal(unreachable.error?.code, -32019);
    assert.match(
      unreachable.error.message,
      /^Cannot reach host qemu\+tcp:\/\/127\.0\.0\.2:1\/system: .*Connection refused/,
    );
    assert.equal(existsSync(hostsFile), false, 'nothing stored');

    const added = (await local.call('fleet.addHost', { uri: d2.tcpUri })).result as {
      host: { id: string; uri: string; hostname: string; reachable: boolean };
    };
    assert.equal(added.host.uri, d2.tcpUri);
    assert.equal(added.host.reachable, true);
    assert.match(added.host.id, /^h[0-9a-f]{10}$/);
    assert.deepEqual(JSON.parse(readFileSync(hostsFile, 'utf8')), {
      hosts: [{ id: added.host.id, uri: d2.tcpUri }],
    });
    const again = (await local.call('fleet.addHost', { uri: d2.tcpUri })).result as {
      host: { id: string };
    };
    assert.equal(again.host.id, added.host.id, 'the same URI twice is the same host');
    const listed = (await local.call('fleet.hosts')).result as {
      hosts: { id: string; uri: string; reachable: boolean }[];
    };
    assert.deepEqual(
      listed.hosts.map((h) => [h.id, h.uri, h.reachable]),
      [
        ['local', 'qemu:///system', true],
        [added.host.id, d2.tcpUri, true],
      ],
    );

    // /rpc?host=ID is d2's ferryd: its guests and its identity.
    const remote = await openSocket(target, session, { host: added.host.id });
    const domains = (await remote.call('domain.list', { active: true, inactive: true })).result as {
      domains: { name: string }[];
    };
    assert.deepEqual(
      domains.domains.map((x) => x.name),
      ['r1'],
    );
    const d2Client = await connectRpc(d2.socket, METHODS);
    t.after(() => d2Client.close());
    const d2Info = await d2Client.call('host.info', {});
    const relayedInfo = (await remote.call('host.info')).result as { hostUuid: string };
    assert.equal(relayedInfo.hostUuid, d2Info.hostUuid);
    const localInfo = (await local.call('host.info')).result as { hostUuid: string };
    assert.notEqual(localInfo.hostUuid, d2Info.hostUuid);
    // Errors of the remote come back under the page's id, with their code.
    const missing = await remote.call('domain.info', { domain: 'nope' });
    assert.equal(missing.error?.code, -32011);
    // An unknown host id is refused before upgrading.
    assert.equal(
      await refusedUpgrade(target, {
        cookie: session.cookie,
        csrf: session.csrf,
        host: 'h0000000000',
      }),
      404,
    );

    // d2 goes away: the relayed socket is told why and closed; the list shows it unreachable.
    await d2.stop();
    const closed = await remote.closed;
    assert.equal(closed.code, 1014, 'bad gateway');
    assert.match(
      remote.fatal[0]?.message ?? '',
      /^Connection to qemu\+tcp:\/\/127\.0\.0\.2:\d+\/system lost/,
    );
    const down = (await local.call('fleet.hosts')).result as {
      hosts: { reachable: boolean; error?: string }[];
    };
    assert.equal(down.hosts[1]?.reachable, false);
    assert.match(down.hosts[1].error ?? '', /Cannot reach host/);

    assert.deepEqual((await local.call('fleet.removeHost', { id: added.host.id })).result, {
      id: added.host.id,
    });
    assert.deepEqual(JSON.parse(readFileSync(hostsFile, 'utf8')), { hosts: [] });
    const unknown = await local.call('fleet.removeHost', { id: added.host.id });
    assert.match(unknown.error?.message ?? '', /^No fleet host with id 'h[0-9a-f]{10}'$/);
  },
);
