/**
 * A ferryd of its own for each test: a temporary state/run directory, the daemon started
 * from dist/ as users run it, the `ferry` CLI pointed at it, and a cleanup that stops the
 * daemon and every QEMU it started (by PID, from its status files), even when the test fails.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { HostPolicy } from '../../src/host/index.js';
import { REPO } from './guest.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestDaemon {
  dir: string;
  stateDir: string;
  runDir: string;
  socket: string;
  uri: string;
  /**
   * `qemu+tcp://127.0.0.2:PORT/system` when started with `{ tcp: true }`. The port is the
   * one ferryd bound on its first start and stays the same across restart().
   */
  tcpUri: string | undefined;
  /** `qemu+tls://127.0.0.2:PORT/system` when started with `{ tls }`; same port across restart(). */
  tlsUri: string | undefined;
  /** Runs `ferry -c URI ARGS…` and collects its output. */
  ferry(...args: string[]): Promise<CliResult>;
  /** Runs ferry and fails the test unless it exits 0. */
  ferryOk(...args: string[]): Promise<string>;
  /** Stops the daemon (SIGTERM) and waits for it; guests keep running. */
  stop(): Promise<void>;
  /** Starts the daemon again on the same directories (after stop() or a crash). */
  restart(): Promise<void>;
  /** Resolves when the daemon process has exited (e.g. at a crash point). */
  exited(): Promise<void>;
  /**
   * Sends the daemon a signal (SIGKILL, SIGSTOP, SIGCONT…); resolves once it has exited when
   * the signal ends it. A stopped daemon is continued before the cleanup's SIGTERM.
   */
  signal(sig: NodeJS.Signals): Promise<void>;
  /** The daemon's stderr so far (its log). */
  log(): string;
  /** Writes a file in the test directory and returns its path. */
  file(name: string, text: string): string;
}

/** A daemon started with `{ tcp: true }`. */
export interface TcpTestDaemon extends TestDaemon {
  tcpUri: string;
}

/** A daemon started with `{ tls }`. */
export interface TlsTestDaemon extends TestDaemon {
  tlsUri: string;
}

/** The TLS listener of a test daemon. */
export interface TlsDaemonOptions {
  /** A host's pki directory as `ferry tls-setup` makes it (OUT/HOST/pki). */
  pki: string;
  /** tls_allowed_dn_list. */
  allowedDns?: readonly string[];
  /** auth_tls (default "none"). */
  auth?: 'none' | 'sasl';
}

export interface StartDaemonOptions {
  /** FERRY_CRASH_AT for the first start only: ferryd kills itself there (crash tests). */
  crashAt?: string;
  configText?: string;
  env?: NodeJS.ProcessEnv;
  /** Also listen on TCP (127.0.0.2, a free port); see TestDaemon.tcpUri. */
  tcp?: boolean;
  /** auth_tcp for `tcp` (default "none"; "sasl" needs auth_users_file in configText). */
  tcpAuth?: 'none' | 'sasl';
  /** Also listen on TLS (127.0.0.2, a free port); see TestDaemon.tlsUri. */
  tls?: TlsDaemonOptions;
}

/** ferryd.conf lines for the network listeners `opts` asks for, on the given ports. */
function networkConfig(opts: StartDaemonOptions, ports: { tcp: number; tls: number }): string {
  const lines: string[] = [];
  if (opts.tcp === true || opts.tls !== undefined) lines.push(`listen_addr = "${TCP_TEST_ADDR}"`);
  if (opts.tcp === true)
    lines.push(
      'listen_tcp = 1',
      `tcp_port = ${ports.tcp}`,
      `auth_tcp = "${opts.tcpAuth ?? 'none'}"`,
    );
  const { tls } = opts;
  if (tls !== undefined) {
    lines.push(
      'listen_tls = 1',
      `tls_port = ${ports.tls}`,
      `auth_tls = "${tls.auth ?? 'none'}"`,
      `key_file = "${join(tls.pki, 'libvirt', 'private', 'serverkey.pem')}"`,
      `cert_file = "${join(tls.pki, 'libvirt', 'servercert.pem')}"`,
      `ca_file = "${join(tls.pki, 'CA', 'cacert.pem')}"`,
    );
    if (tls.allowedDns !== undefined)
      lines.push(
        `tls_allowed_dn_list = [${tls.allowedDns.map((d) => JSON.stringify(d)).join(', ')}]`,
      );
  }
  return lines.length === 0 ? '' : `\n${lines.join('\n')}\n`;
}

export const FERRYD = join(REPO, 'bin', 'ferryd.js');
export const FERRY = join(REPO, 'bin', 'ferry.js');
/** Where test guests' files live: the guest image and the system temporary directory. */
export const TEST_HOST_POLICY: HostPolicy = {
  allowedPaths: [join(REPO, 'guest', 'out'), tmpdir()],
  qemuCommandline: false,
  origin: 'the test configuration',
};

/** Not 127.0.0.1: proves ferryd binds the listen_addr it is given. */
export const TCP_TEST_ADDR = '127.0.0.2';

/**
 * A ferryd's directories under `dir` (state, run, socket, config holding `configText`) and
 * the command-line arguments that point it at them.
 */
export function ferrydLayout(
  dir: string,
  configText: string,
): { stateDir: string; runDir: string; socket: string; config: string; args: string[] } {
  const stateDir = join(dir, 'state');
  const runDir = join(dir, 'run');
  const socket = join(runDir, 'ferry-sock');
  const config = join(dir, 'ferryd.conf');
  // The guest image and the tests' temporary files; a test of the policy sets its own.
  const policy = /^\s*allowed_paths\s*=/m.test(configText)
    ? ''
    : `allowed_paths = [${TEST_HOST_POLICY.allowedPaths.map((p) => JSON.stringify(p)).join(', ')}]\n`;
  // Appended, so the lines a test writes keep their numbers (errors name them).
  const sep = configText === '' || configText.endsWith('\n') ? '' : '\n';
  writeFileSync(config, configText + sep + policy);
  const args = ['--state-dir', stateDir, '--run-dir', runDir, '--socket', socket];
  return { stateDir, runDir, socket, config, args: [...args, '--config', config] };
}

/** Runs a command and collects its output. */
export function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  input?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function waitForSocket(path: string, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ferryd exited early with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(path, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`ferryd did not listen on ${path} within ${timeoutMs} ms`);
}

/**
 * PIDs of the live QEMU processes whose command line names `runDir`: one host's guests and
 * the storage daemons of its exported pools.
 */
export function qemuPids(runDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // A zombie's cmdline is empty: only live processes match.
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const qemu = cmdline.startsWith('qemu-system') || cmdline.startsWith('qemu-storage-daemon');
      if (qemu && cmdline.includes(`${runDir}/`)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/**
 * Kills every QEMU whose command line names this test's run directory (its QMP socket lives
 * there), so a test that failed half-way leaves no guest behind; only processes this test
 * started can match.
 */
export async function killGuests(runDir: string): Promise<void> {
  const pids = qemuPids(runDir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  // A killed orphan stays a zombie until PID 1 reaps it; its empty cmdline means it is dead.
  const deadline = Date.now() + 5000;
  const alive = (pid: number): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
    } catch {
      return false;
    }
  };
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
}

/** Runs `ferry -c URI ARGS…` (e.g. against a daemon's tcpUri) and collects its output. */
export function ferryAt(uri: string, ...args: string[]): Promise<CliResult> {
  return run(process.execPath, [FERRY, '-c', uri, ...args]);
}

/**
 * Waits for the 'ferryd ready' log line written after `offset` (earlier lines belong to an
 * earlier start) and returns it parsed; ferryd logs it once every listener is up.
 */
async function waitForReady(
  log: () => string,
  offset: number,
  child: ChildProcess,
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of log().slice(offset).split('\n')) {
      if (!line.includes('"ferryd ready"')) continue;
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
    }
    if (child.exitCode !== null) throw new Error(`ferryd exited early with code ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`ferryd did not log 'ferryd ready' within ${timeoutMs} ms`);
}

/** Starts a ferryd for this test; everything it made is removed in `t.after`. */
export async function startDaemon(
  t: TestContext,
  opts: StartDaemonOptions & { tcp: true; tls: TlsDaemonOptions },
): Promise<TcpTestDaemon & TlsTestDaemon>;
export async function startDaemon(
  t: TestContext,
  opts: StartDaemonOptions & { tcp: true },
): Promise<TcpTestDaemon>;
export async function startDaemon(
  t: TestContext,
  opts: StartDaemonOptions & { tls: TlsDaemonOptions },
): Promise<TlsTestDaemon>;
export async function startDaemon(t: TestContext, opts?: StartDaemonOptions): Promise<TestDaemon>;
export async function startDaemon(
  t: TestContext,
  opts: StartDaemonOptions = {},
): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-t-'));
  const env = { ...process.env, ...opts.env };
  let child: ChildProcess | undefined;
  let logText = '';
  const baseConfig = opts.configText ?? '# test daemon\n';
  // Port 0 on the first start: ferryd binds a free port itself, so no other test (or agent)
  // can take it between our choosing and its binding; the ready line tells us which.
  const configFor = (ports: { tcp: number; tls: number }): string =>
    baseConfig + networkConfig(opts, ports);
  const { stateDir, runDir, socket, config, args } = ferrydLayout(
    dir,
    configFor({ tcp: 0, tls: 0 }),
  );
  const uri = `qemu+unix:///system?socket=${socket}`;
  let tcpUri: string | undefined;
  let tlsUri: string | undefined;

  let starts = 0;
  const start = async (): Promise<void> => {
    const crash =
      starts++ === 0 && opts.crashAt !== undefined ? { FERRY_CRASH_AT: opts.crashAt } : {};
    const c = spawn(process.execPath, [FERRYD, ...args], {
      env: { ...env, ...crash },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const offset = logText.length;
    c.stderr.on('data', (d: Buffer) => (logText += d.toString()));
    child = c;
    await waitForSocket(socket, c).catch((err: unknown) => {
      // Say why: ferryd's last log lines (a fatal start-up error is the last one).
      throw new Error(`${String(err)}; ferryd log: ${logText.slice(offset).trim().slice(-1500)}`);
    });
    if (opts.tcp !== true && opts.tls === undefined) return;
    const ready = await waitForReady(() => logText, offset, c);
    const portOf = (field: string): number => {
      const m = /:(\d+)$/.exec(String(ready[field]));
      if (m === null)
        throw new Error(`ferryd ready without a ${field} address: ${JSON.stringify(ready)}`);
      return Number(m[1]);
    };
    if (tcpUri === undefined && tlsUri === undefined) {
      const ports = {
        tcp: opts.tcp === true ? portOf('tcp') : 0,
        tls: opts.tls !== undefined ? portOf('tls') : 0,
      };
      if (opts.tcp === true) tcpUri = `qemu+tcp://${TCP_TEST_ADDR}:${ports.tcp}/system`;
      if (opts.tls !== undefined) tlsUri = `qemu+tls://${TCP_TEST_ADDR}:${ports.tls}/system`;
      // A restarted daemon comes back on the same ports, as a real host would.
      writeFileSync(config, configFor(ports));
    }
  };
  const running = (): ChildProcess | undefined =>
    child !== undefined && child.exitCode === null && child.signalCode === null ? child : undefined;
  const stop = async (): Promise<void> => {
    const c = running();
    if (c === undefined) return;
    const exited = new Promise((r) => c.once('exit', r));
    // A daemon a test stopped (SIGSTOP) would never see the SIGTERM.
    c.kill('SIGCONT');
    c.kill('SIGTERM');
    await exited;
  };
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const c = running();
    if (c === undefined) throw new Error('ferryd is not running');
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(sig);
    if (sig === 'SIGKILL' || sig === 'SIGTERM') await exited;
  };
  t.after(async () => {
    await stop().catch(() => undefined);
    await killGuests(runDir);
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  const ferry = (...a: string[]): Promise<CliResult> =>
    run(process.execPath, [FERRY, '-c', uri, ...a], env);
  return {
    dir,
    stateDir,
    runDir,
    socket,
    uri,
    get tcpUri() {
      return tcpUri;
    },
    get tlsUri() {
      return tlsUri;
    },
    ferry,
    ferryOk: async (...a) => {
      const r = await ferry(...a);
      if (r.code !== 0) throw new Error(`ferry ${a.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    stop,
    restart: start,
    exited: async () => {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise((r) => c.once('exit', r));
    },
    signal,
    log: () => logText,
    file: (name, text) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
  };
}
