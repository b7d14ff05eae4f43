/**
 * Commands and processes for the testbed: run a command and collect its output, and end a
 * process by PID only when it is still the one the testbed started (PID + start time, so a
 * reused PID is never signalled).
 * @module
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { FerryError } from '../common/errors.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
}

/** A process the testbed started: its PID and its start time (clock ticks after boot). */
export interface ProcessRecord {
  pid: number;
  startTime: number;
}

/** Runs `argv` and collects its output; a timeout kills it and rejects (OPERATION_TIMEOUT). */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new FerryError('INVALID_ARG', 'Empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A command that exits without reading its input must not fail the run with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new FerryError('SYSTEM_ERROR', `Cannot run '${cmd}': ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new FerryError(
            'OPERATION_TIMEOUT',
            `'${argv.join(' ')}' did not finish within ${opts.timeoutMs} ms`,
            { data: { stdout, stderr } },
          ),
        );
        return;
      }
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs `argv` and returns its stdout; a non-zero exit is a SYSTEM_ERROR quoting its stderr. */
export async function runOk(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').slice(-3).join('; ') || `exit code ${r.code}`;
    throw new FerryError('SYSTEM_ERROR', `'${argv.join(' ')}' failed: ${why}`, {
      data: { code: r.code },
    });
  }
  return r.stdout;
}

/** State letter and start time of `pid` from /proc, or undefined when there is no such process. */
function procStat(pid: number): { state: string; startTime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0] ?? '';
  const startTime = Number(fields[19]);
  return Number.isFinite(startTime) ? { state, startTime } : undefined;
}

/** The record of a process that runs now (for the testbed.json), or undefined when it is gone. */
export function processRecord(pid: number): ProcessRecord | undefined {
  const stat = procStat(pid);
  return stat === undefined ? undefined : { pid, startTime: stat.startTime };
}

/** Whether the recorded process still runs; a zombie (dead, not yet reaped) does not. */
export function isRunning(rec: ProcessRecord): boolean {
  const stat = procStat(rec.pid);
  return stat !== undefined && stat.startTime === rec.startTime && stat.state !== 'Z';
}

function signal(rec: ProcessRecord, sig: NodeJS.Signals): void {
  if (!isRunning(rec)) return;
  try {
    process.kill(rec.pid, sig);
  } catch {
    // Gone meanwhile.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until none of `recs` runs any more; returns false if some still run at the deadline. */
export async function waitEnded(
  recs: readonly ProcessRecord[],
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!recs.some(isRunning)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/**
 * Ends the recorded processes: `first` (SIGTERM by default), then SIGKILL to any still running
 * after `graceMs`, and waits until all have ended. Processes that are not (any more) the
 * recorded ones are left alone.
 */
export async function endProcesses(
  recs: readonly ProcessRecord[],
  opts: { first?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
  const first = opts.first ?? 'SIGTERM';
  for (const rec of recs) {
    // A stopped process (SIGSTOP in a test) would never act on the SIGTERM.
    if (first !== 'SIGKILL') signal(rec, 'SIGCONT');
    signal(rec, first);
  }
  if (await waitEnded(recs, opts.graceMs ?? 10_000)) return;
  for (const rec of recs) signal(rec, 'SIGKILL');
  if (await waitEnded(recs, 10_000)) return;
  const left = recs.filter(isRunning).map((r) => r.pid);
  throw new FerryError('SYSTEM_ERROR', `Processes ${left.join(', ')} did not end after SIGKILL`);
}

/** The owner record of this process (a testbed's owner is the process that created it). */
export function selfRecord(): ProcessRecord {
  const rec = processRecord(process.pid);
  if (rec === undefined) throw new FerryError('SYSTEM_ERROR', 'Cannot read /proc/self/stat');
  return rec;
}
