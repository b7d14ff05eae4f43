/**
 * `qemu+tcp://HOST:PORT/system` with auth_tcp = "none": the CLI and a migrating source ferryd
 * reach a ferryd over TCP, as the chapter writes it: `ferry migrate --live --persistent VM
 * qemu+tcp://…/system`. (Logins over TCP: auth-tcp.test.ts.)
 * The guest's own heartbeat must continue on the destination with no corrupted page, and a
 * TCP listener that cannot start must stop ferryd without harming a running guest.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FERRYD,
  TCP_TEST_ADDR,
  ferryAt,
  startDaemon,
  type CliResult,
  type TcpTestDaemon,
  ferrydLayout,
} from '../helpers/daemon.js';
import { guestXml } from '../helpers/guest.js';
import { assertOneLife, EMPTY_LIST, keepsBeating, startGuest } from '../helpers/migration.js';

function portOf(d: TcpTestDaemon): number {
  return Number(/:(\d+)\/system$/.exec(d.tcpUri)?.[1]);
}

/** Listens on TCP_TEST_ADDR:port (0: any); closed when the test ends. */
async function occupy(t: TestContext, port: number): Promise<Server> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, TCP_TEST_ADDR, resolve);
  });
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return server;
}

/** A port on TCP_TEST_ADDR that refuses connections: bound once, then released. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, TCP_TEST_ADDR, resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

/**
 * Runs a ferryd that is expected to refuse to start, in directories of its own. Should it
 * start after all, it is killed (by PID) after `timeoutMs` and when the test ends.
 */
async function ferrydRefusal(t: TestContext, configText: string, timeoutMs = 30_000) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-tcp-'));
  const { config, socket, args } = ferrydLayout(dir, configText);
  const child = spawn(process.execPath, [FERRYD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const result: CliResult = { code: code ?? -1, stdout: '', stderr };
  return { result, config, socketLeft: existsSync(socket) };
}

/** The `error: …` lines ferryd printed for people (its JSON log lines set aside). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('error:'));
}

test(
  'ferry talks to ferryd over qemu+tcp://; refused ports and unsafe configs are clear errors',
  { timeout: 180_000 },
  async (t) => {
    const b = await startDaemon(t, { tcp: true });
    assert.match(b.tcpUri, /^qemu\+tcp:\/\/127\.0\.0\.2:\d+\/system$/);

    const list = await ferryAt(b.tcpUri, 'list', '--all');
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, EMPTY_LIST);
    const version = await ferryAt(b.tcpUri, 'version');
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^Compiled against library: ferry \S+\n/);
    assert.match(version.stdout, /^Running hypervisor: QEMU \d+\.\d+/m);
    assert.equal((await ferryAt(b.tcpUri, 'uri')).stdout, `${b.tcpUri}\n\n`);

    // What is done over TCP is what the unix socket sees: one daemon, two ways in.
    const xml = b.file('d.xml', guestXml({ name: 'd', serialLog: join(b.dir, 'd.log') }));
    assert.equal((await ferryAt(b.tcpUri, 'define', xml)).code, 0);
    assert.match(await b.ferryOk('list', '--all'), /^ - +d +shut off$/m);

    // virsh's two lines: what failed, then why, naming HOST:PORT and the OS reason.
    const port = await refusedPort();
    const refused = await ferryAt(`qemu+tcp://${TCP_TEST_ADDR}:${port}/system`, 'list');
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.equal(
      refused.stderr,
      `error: failed to connect to the hypervisor\nerror: Failed to connect to '${TCP_TEST_ADDR}:${port}': Connection refused\n`,
    );
    const ssh = await ferryAt(`qemu+ssh://${TCP_TEST_ADDR}:${port}/system`, 'list');
    assert.equal(ssh.code, 1);
    assert.equal(
      ssh.stderr,
      `error: failed to connect to the hypervisor\nerror: Cannot connect to ${TCP_TEST_ADDR} over ssh: connect to host ${TCP_TEST_ADDR} port ${port}: Connection refused\n`,
    );

    // TLS key files that are not there stop ferryd, naming the file and its setting.
    const noKey = await ferrydRefusal(
      t,
      `listen_tls = 1\nlisten_addr = "${TCP_TEST_ADDR}"\ntls_port = 0\nkey_file = "/nonexistent/key.pem"\n`,
    );
    assert.equal(noKey.result.code, 1);
    assert.deepEqual(errorLines(noKey.result.stderr), [
      "error: Cannot read key_file '/nonexistent/key.pem': No such file or directory",
    ]);
    assert.equal(noKey.socketLeft, false, 'its unix socket was closed again');

    const bad = await ferrydRefusal(t, 'auth_tcp = "none"\nlisten_tcp = 2\n');
    assert.equal(bad.result.code, 1);
    assert.match(
      bad.result.stderr,
      /^error: Setting 'listen_tcp' at \S+ferryd\.conf:2 must be 0 or 1, not 2\n$/,
    );

    // b holds its port: a second ferryd asking for it stops, and b keeps serving.
    const busy = await ferrydRefusal(
      t,
      `listen_tcp = 1\nauth_tcp = "none"\nlisten_addr = "${TCP_TEST_ADDR}"\ntcp_port = ${portOf(b)}\n`,
    );
    assert.equal(busy.result.code, 1);
    assert.deepEqual(errorLines(busy.result.stderr), [
      `error: Cannot listen on ${TCP_TEST_ADDR}:${portOf(b)}: Address already in use`,
    ]);
    assert.equal(busy.socketLeft, false, 'its unix socket was closed again');
    assert.match((await ferryAt(b.tcpUri, 'list', '--all')).stdout, /^ - +d +shut off$/m);
  },
);

test(
  'live migration to qemu+tcp:// keeps the guest beating; a busy port on restart harms no guest',
  { timeout: 180_000 },
  async (t) => {
    const a = await startDaemon(t);
    const b = await startDaemon(t, { tcp: true });
    const serial = await startGuest(a, { name: 'vm', hbMs: 200, dirtyMiB: 32, dirtyRate: 10 });

    // The CLI talks to a over its unix socket; a's ferryd reaches b over TCP itself.
    const out = await a.ferry('migrate', '--live', '--persistent', 'vm', b.tcpUri);
    assert.equal(out.code, 0, out.stderr);
    const onB = await ferryAt(b.tcpUri, 'list', '--all');
    assert.equal(onB.code, 0, onB.stderr);
    assert.match(onB.stdout, /^ 1 +vm +running$/m);
    assert.match(await a.ferryOk('list', '--all'), /^ - +vm +shut off$/m);
    assert.equal(
      (await ferryAt(b.tcpUri, 'domstate', 'vm', '--reason')).stdout,
      'running (migrated)\n\n',
    );
    assert.match((await ferryAt(b.tcpUri, 'dominfo', 'vm')).stdout, /^Persistent: {5}yes$/m);
    await keepsBeating(serial);
    assertOneLife(serial);

    // b restarts while something else holds its TCP port: it must stop, leaving vm running.
    await b.stop();
    const port = portOf(b);
    const blocker = await occupy(t, port);
    await assert.rejects(b.restart(), /ferryd exited early with code 1/);
    assert.match(
      b.log(),
      new RegExp(`^error: Cannot listen on 127\\.0\\.0\\.2:${port}: Address already in use$`, 'm'),
    );
    await keepsBeating(serial);
    await new Promise((resolve) => blocker.close(resolve));
    await b.restart();
    assert.match((await ferryAt(b.tcpUri, 'list')).stdout, /^ 1 +vm +running$/m);
    await keepsBeating(serial);
    assertOneLife(serial);
    assert.equal((await ferryAt(b.tcpUri, 'destroy', 'vm')).code, 0);
  },
);
