/**
 * QEMU process supervision: spawn detached (so guests outlive ferryd), log to a file, and
 * re-attach through the pidfile and the QMP socket after a daemon restart, the way libvirt's
 * qemuProcessReconnect does. A process's end is noticed by its QMP socket closing: PID 1 on
 * some hosts reaps orphans late, so polling the PID would report a dead QEMU as alive.
 * @module
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { FerryError, messageOf } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';
import { QmpClient, type QmpEvent } from '../qmp/index.js';
import { Monitor } from './monitor.js';

export interface LaunchOptions {
  binary: string;
  args: string[];
  /** QEMU's stdout and stderr are appended here. */
  logFile: string;
  qmpSocket: string;
  /** How long QEMU may take to open its monitor. */
  timeoutMs?: number;
}

/** How a QEMU process ended, as far as its QMP traffic tells. */
export interface ExitInfo {
  /** The last SHUTDOWN event's data, when the guest or a command asked QEMU to quit. */
  shutdown: { guest: boolean; reason: string } | undefined;
  /** True when a GUEST_PANICKED event was seen. */
  panicked: boolean;
}

/** Reads the last non-empty lines of a log, for errors that should say what QEMU said. */
export function tailLog(path: string, lines = 3): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A running QEMU and its monitor. */
export class QemuProcess {
  readonly pid: number;
  readonly monitor: Monitor;
  /** Resolves once the QMP socket closes, i.e. QEMU has exited (or closed its monitor). */
  readonly exited: Promise<ExitInfo>;
  #shutdown: ExitInfo['shutdown'];
  #panicked = false;

  private constructor(pid: number, qmp: QmpClient) {
    this.pid = pid;
    this.monitor = new Monitor(qmp);
    qmp.onEvent((ev: QmpEvent) => {
      if (ev.event === 'SHUTDOWN') {
        this.#shutdown = {
          guest: ev.data['guest'] === true,
          reason: typeof ev.data['reason'] === 'string' ? ev.data['reason'] : 'unknown',
        };
      } else if (ev.event === 'GUEST_PANICKED') {
        this.#panicked = true;
      }
    });
    this.exited = qmp.closed.then(() => ({ shutdown: this.#shutdown, panicked: this.#panicked }));
  }

  get qmp(): QmpClient {
    return this.monitor.qmp;
  }

  /** Starts QEMU detached and connects to its monitor; rejects with QEMU's own words when it fails. */
  static async launch(opts: LaunchOptions): Promise<QemuProcess> {
    const logFd = openSync(opts.logFile, 'a', 0o600);
    let child;
    try {
      writeSync(
        logFd,
        `${new Date().toISOString()}: starting up\n${[opts.binary, ...opts.args].join(' ')}\n`,
      );
      child = spawn(opts.binary, opts.args, { detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    const spawnFailed = new Promise<never>((_, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        const why = describeErrno(err);
        reject(
          new FerryError('SYSTEM_ERROR', `Cannot find QEMU binary '${opts.binary}': ${why}`, {
            cause: err,
          }),
        );
      });
      child.once('exit', (code, signal) => {
        const said = tailLog(opts.logFile, 1);
        reject(
          new FerryError(
            'OPERATION_FAILED',
            `QEMU exited while starting (${signal ?? `code ${code ?? '?'}`}): ${said}`,
          ),
        );
      });
    });
    const abort = new AbortController();
    spawnFailed.catch(() => abort.abort());
    child.unref();
    try {
      const qmp = await Promise.race([
        QmpClient.connect(opts.qmpSocket, {
          timeoutMs: opts.timeoutMs ?? 30_000,
          waitForSocket: true,
          signal: abort.signal,
          // migrate-pause and migrate-recover must get through while the guest blocks QEMU's
          // main loop on a post-copy page that does not arrive (see src/migration).
          oob: true,
        }),
        spawnFailed,
      ]);
      if (child.pid === undefined) throw new FerryError('SYSTEM_ERROR', `QEMU did not start`);
      return new QemuProcess(child.pid, qmp);
    } catch (err) {
      if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
      if (err instanceof FerryError) {
        // The spawn failure explains more than the aborted connect does.
        const early = await Promise.race([
          spawnFailed.catch((e: unknown) => e),
          Promise.resolve(undefined),
        ]);
        throw early instanceof FerryError ? early : err;
      }
      throw new FerryError('OPERATION_FAILED', `QEMU did not start: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }

  /** Re-attaches to a QEMU left running by an earlier ferryd; rejects when it is gone. */
  static async attach(pid: number, qmpSocket: string): Promise<QemuProcess> {
    const qmp = await QmpClient.connect(qmpSocket, { timeoutMs: 5_000, oob: true });
    return new QemuProcess(pid, qmp);
  }

  /**
   * Ends QEMU: `quit` over QMP first (clean), SIGTERM and finally SIGKILL by PID if it lingers.
   * Resolves when the monitor socket has closed.
   */
  async terminate(graceMs = 3_000): Promise<ExitInfo> {
    const done = this.exited;
    if (!this.qmp.isClosed) {
      this.qmp.execute('quit', undefined, { timeoutMs: graceMs }).catch(() => undefined);
    }
    if (await settlesWithin(done, graceMs)) return done;
    signal(this.pid, 'SIGTERM');
    if (await settlesWithin(done, graceMs)) return done;
    signal(this.pid, 'SIGKILL');
    this.qmp.close();
    return done;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([p.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}
