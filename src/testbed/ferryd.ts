/**
 * A host's ferryd: its configuration (testbed defaults under the caller's extra settings),
 * starting it inside the host with its log in the host's directory and waiting for its
 * "ferryd ready" line, and ending the guests it leaves running.
 * @module
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerryError } from '../common/errors.js';
import { endProcesses, isRunning, processRecord, type ProcessRecord } from './processes.js';

/** The repository (src/testbed or dist/testbed is two levels down). */
export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const FERRYD_BIN = join(REPO, 'bin', 'ferryd.js');
export const FERRY_BIN = join(REPO, 'bin', 'ferry.js');
/** The commands a remote ssh command finds on PATH in every host (/usr/local/bin). */
export const HOST_COMMANDS: Readonly<Record<string, string>> = {
  ferry: FERRY_BIN,
  ferryd: FERRYD_BIN,
  'ferry-ssh-helper': join(REPO, 'bin', 'ferry-ssh-helper.js'),
};

/** Keys a `key = value` configuration text sets (comments and blank lines skipped). */
export function configKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_][a-z0-9_]*)\s*=/.exec(line);
    if (m?.[1] !== undefined) keys.add(m[1]);
  }
  return keys;
}

/**
 * A host's ferryd.conf: the testbed's `defaults` for every key `extra` does not set, then
 * `extra` as given, so extra settings win without a duplicate key.
 */
export function ferrydConfigText(
  host: string,
  defaults: Readonly<Record<string, string | number | readonly string[]>>,
  extra: string,
): string {
  const overridden = configKeys(extra);
  const lines = [`# ferryd.conf of testbed host ${host} (src/testbed/ferryd.ts)`];
  for (const [key, value] of Object.entries(defaults)) {
    if (overridden.has(key)) continue;
    lines.push(`${key} = ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`);
  }
  if (extra.trim() !== '') lines.push(extra.replace(/\n+$/, ''));
  return `${lines.join('\n')}\n`;
}

/**
 * The testbed's settings for a host's ferryd: TCP on the host's address, no authentication,
 * and guests allowed to use the test guest's image and files in the shared /tmp (where the
 * tests keep serial logs, so one log follows a guest across hosts).
 */
export function ferrydDefaults(address: string): Record<string, string | number | string[]> {
  return {
    listen_tcp: 1,
    listen_addr: address,
    auth_tcp: 'none',
    allowed_paths: [join(REPO, 'guest', 'out'), tmpdir(), '/var/lib/ferry/images'],
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readFrom(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString();
  } catch {
    return '';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `argv` detached (it outlives this process: `ferry-testbed up` exits and leaves the
 * testbed running) with stderr appended to `log`, and returns its record.
 */
export function spawnDaemon(argv: readonly string[], log: string): ProcessRecord {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new FerryError('INVALID_ARG', 'Empty command');
  const fd = openSync(log, 'a', 0o600);
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', fd] });
    child.on('error', () => undefined);
    child.unref();
    const rec = child.pid === undefined ? undefined : processRecord(child.pid);
    if (rec === undefined)
      throw new FerryError('SYSTEM_ERROR', `Cannot start '${argv.join(' ')}'`, {
        data: { log },
      });
    return rec;
  } finally {
    closeSync(fd);
  }
}

/**
 * Waits until `log` shows `marker` after `offset`; fails with the log's tail when the process
 * ends first or the time runs out.
 */
export async function waitForLogLine(
  what: string,
  rec: ProcessRecord,
  log: string,
  offset: number,
  marker: string,
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = readFrom(log, offset);
    const line = text.split('\n').find((l) => l.includes(marker));
    if (line !== undefined) return line;
    const tail = (): string => text.trim().split('\n').slice(-3).join(' | ');
    if (!isRunning(rec))
      throw new FerryError('OPERATION_FAILED', `${what} exited before it was ready: ${tail()}`, {
        data: { log },
      });
    if (Date.now() >= deadline)
      throw new FerryError('OPERATION_TIMEOUT', `${what} was not ready within ${timeoutMs} ms`, {
        data: { log },
      });
    await sleep(100);
  }
}

/** Starts ferryd with `prefix` (nsenter …, or nothing) and waits for its ready line. */
export async function startFerrydProcess(
  what: string,
  prefix: readonly string[],
  flags: readonly string[],
  log: string,
  onStarted: (rec: ProcessRecord) => void,
): Promise<ProcessRecord> {
  const offset = fileSize(log);
  const rec = spawnDaemon([...prefix, process.execPath, FERRYD_BIN, ...flags], log);
  onStarted(rec);
  await waitForLogLine(what, rec, log, offset, '"ferryd ready"');
  return rec;
}

/** QEMU processes whose pid files are in `dir` and whose command line starts with `binary`. */
function processesOf(dir: string, binary: string): ProcessRecord[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const recs: ProcessRecord[] = [];
  for (const e of entries) {
    if (!e.endsWith('.pid')) continue;
    const pid = Number(readFrom(join(dir, e), 0).trim());
    if (!Number.isInteger(pid) || pid <= 0) continue;
    // A pid file left by a process that ended long ago may name a reused PID: QEMU only.
    if (!readFrom(`/proc/${pid}/cmdline`, 0).startsWith(binary)) continue;
    const rec = processRecord(pid);
    if (rec !== undefined) recs.push(rec);
  }
  return recs;
}

/**
 * QEMU processes of one host: its guests (pid files in the run directory) and the storage
 * daemons of its exported pools (pid files in RUN_DIR/storage).
 */
export function guestProcesses(runDir: string): ProcessRecord[] {
  return [
    ...processesOf(runDir, 'qemu-system'),
    ...processesOf(join(runDir, 'storage'), 'qemu-storage-daemon'),
  ];
}

/** Kills the guests of one host (ferryd already stopped) and waits until they have ended. */
export async function killGuests(runDir: string): Promise<void> {
  await endProcesses(guestProcesses(runDir), { first: 'SIGKILL' });
}
