/**
 * The watch after the switch-over: a migration whose stream completed is only a success when
 * the guest then runs on the destination. QEMU's job status says the bytes arrived, not that
 * the guest survived them. Under TCG, QEMU 7.2 can hand over a corrupted fast-dirtying guest
 * whose kernel oopses right after the switch-over: the test guest booted without pti=on and
 * migrated at 20 MiB/s while dirtying 10 MiB/s oopsed and panicked in each of 6 runs,
 * GUEST_PANICKED 60-62 ms after the destination's `cont` in the 4 timed ones. For `graceMs`
 * after the destination resumed the guest, this module looks for evidence of failure and
 * resolves early only when it finds some:
 *
 * - GUEST_PANICKED: the guest kernel said it panicked (every guest Ferry boots has a pvpanic
 *   device, and QEMU pauses a panicked guest: -action panic=pause). The test guest also runs
 *   with oops=panic, so an oops is a panic.
 * - QEMU stopping the guest on its own: query-status 'guest-panicked', 'internal-error',
 *   'io-error', 'shutdown' or 'watchdog'; the guest powering off or resetting itself.
 * - QEMU exiting, or its monitor not answering.
 * - No progress: QEMU says running but no vCPU thread ran at all over the window. Measured
 *   under TCG (QEMU 7.2, 6.1 guest kernel, /proc/PID/task/TID/schedstat): the test guest
 *   with its heartbeat runs its vCPU about 80 ms and 800-1150 times a second; a kernel with
 *   nothing but `sleep` as init still runs it 1.4-2 ms and 20-30 times a second, and its
 *   longest quiet gap over 90 s was 512 ms; a guest halted with interrupts off (`halt -f`,
 *   what a kernel that stopped for good looks like) runs it exactly 0 times, 0 ns. The tick-
 *   sampled utime/stime of /proc/.../stat often reads 0 for the idle kernel, so schedstat's
 *   nanoseconds are used, and a window shorter than {@link MIN_PROGRESS_WINDOW_MS} is not
 *   judged. Time spent runnable but waiting for a host CPU counts as progress: a busy host is
 *   not a dead guest. This catches vCPUs that stopped for good (halted kernels, post-copy
 *   page faults that are never served); a guest spinning in a loop is beyond it.
 *
 * Evidence is what a person needs to believe the verdict: the panic event, QEMU's status, how
 * QEMU ended, the vCPU figures, and the last lines of the guest's serial console and QEMU's log.
 * @module
 */
import { messageOf } from '../common/errors.js';
import type { DomainRecord, PanicRecord, ThreadSchedStat } from '../host/index.js';
import { threadSchedStat } from '../host/index.js';
import type { ExitInfo } from '../qemu/index.js';
import { QmpDisconnectedError, QmpTimeoutError } from '../qmp/index.js';
import type { QmpCallOptions, QmpEvent } from '../qmp/index.js';
import {
  evidenceFor,
  fileEvidence,
  type Failure,
  type GuestEvidence,
  type GuestFailureKind,
  type VcpuProgress,
} from './guest-evidence.js';

/** 1.5 times the longest quiet gap measured on an idle guest (see the module comment). */
export const MIN_PROGRESS_WINDOW_MS = 750;
const DEFAULT_MONITOR_TIMEOUT_MS = 5_000;

type VcpuThread = { 'cpu-index': number; 'thread-id': number };

/** Run states in which QEMU has stopped the guest because something went wrong. */
const FAILED_STATES: Readonly<Record<string, GuestFailureKind>> = {
  'guest-panicked': 'panicked',
  'internal-error': 'stopped',
  'io-error': 'stopped',
  shutdown: 'shutdown',
  watchdog: 'stopped',
};

/** The part of a QMP client the watch uses; a QmpClient fits, unit tests pass a fake. */
export interface WatchQmp {
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts?: QmpCallOptions,
  ): Promise<T>;
  onEvent(listener: (ev: QmpEvent) => void): () => void;
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
}

/** The guest to watch: its QEMU and where its evidence lives. */
export interface WatchTarget {
  name: string;
  pid: number;
  qmp: WatchQmp;
  /** The guest's serial console log, if it has one in a file. */
  consoleLog?: string | undefined;
  /** QEMU's own log. */
  qemuLog?: string | undefined;
  /** A panic the host saw before the watch began (read when the watch starts). */
  readonly panic?: PanicRecord | undefined;
  /** How QEMU ended, once it has. */
  exited?: Promise<ExitInfo> | undefined;
}

export interface GuestWatchOptions {
  /** How long a guest with no sign of failure is watched (ms). */
  graceMs: number;
  /** Serial console lines quoted in the evidence (default 30). */
  consoleLines?: number;
  /** How long QEMU's monitor may take to answer before it counts as hung (default 5 s). */
  monitorTimeoutMs?: number;
  /** Reads a vCPU thread's scheduler figures (default: /proc). */
  schedStat?: (pid: number, tid: number) => ThreadSchedStat | undefined;
}

export type GuestVerdict =
  | {
      ok: true;
      watchedMs: number;
      /** 'not-judged' when the guest was paused meanwhile, the window was short or no schedstat. */
      progress: 'seen' | 'not-judged';
      vcpus: VcpuProgress[];
    }
  | { ok: false; watchedMs: number; evidence: GuestEvidence };

const WATCHED_EVENTS = new Set(['GUEST_PANICKED', 'STOP', 'SHUTDOWN', 'RESET', 'RESUME']);

/**
 * Watches the guest of `rec` (active on this host) for `opts.graceMs` after the switch-over,
 * resolving early only with a failure. Never rejects: a failure to watch is a verdict too.
 */
export function watchGuestAfterSwitchover(
  rec: DomainRecord,
  opts: GuestWatchOptions,
): Promise<GuestVerdict> {
  const proc = rec.proc;
  if (proc === undefined) {
    const evidence: GuestEvidence = {
      kind: 'exited',
      summary: 'QEMU is no longer running on the destination',
      afterMs: 0,
      events: [],
      ...fileEvidence(rec.consoleLog, rec.qemuLog, opts.consoleLines),
    };
    return Promise.resolve({ ok: false, watchedMs: 0, evidence });
  }
  return watchGuest(
    {
      name: rec.def.name,
      pid: proc.pid,
      qmp: proc.qmp,
      consoleLog: rec.consoleLog,
      qemuLog: rec.qemuLog,
      // Read when the watch starts, after it has subscribed to QEMU's events.
      get panic() {
        return rec.panic;
      },
      exited: proc.exited,
    },
    opts,
  );
}

/** {@link watchGuestAfterSwitchover} for any QEMU: the building block, and what tests drive. */
export async function watchGuest(
  target: WatchTarget,
  opts: GuestWatchOptions,
): Promise<GuestVerdict> {
  const started = Date.now();
  const since = (): number => Date.now() - started;
  const timeoutMs = opts.monitorTimeoutMs ?? DEFAULT_MONITOR_TIMEOUT_MS;
  const readStat = opts.schedStat ?? threadSchedStat;
  const events: GuestEvidence['events'] = [];
  // The first failure seen wins; `woken` ends every wait as soon as there is one.
  let failure: Failure | undefined;
  let wake!: () => void;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  const fail = (f: Failure): void => {
    failure ??= f;
    wake();
  };
  let judgeable = true;
  const judgeStatus = (status: string): void => {
    const kind = FAILED_STATES[status];
    if (kind !== undefined) fail({ kind, summary: `QEMU reports the guest '${status}'`, status });
    // Paused by someone (or still migrating): not a failure, but progress cannot be judged.
    else if (status !== 'running') judgeable = false;
  };
  // A monitor that does not answer (or is gone) is a failure of its own; one that answers
  // with an error is alive, it just cannot tell.
  const monitorError = (err: unknown): void => {
    const f = monitorFailure(target, err, timeoutMs);
    if (f === undefined) judgeable = false;
    else fail(f);
  };
  const checkStatus = (): Promise<void> =>
    target.qmp
      .execute<{ status: string }>('query-status', undefined, { timeoutMs })
      .then((s) => judgeStatus(s.status), monitorError);

  const unsubscribe = target.qmp.onEvent((ev) => {
    if (!WATCHED_EVENTS.has(ev.event)) return;
    events.push({ event: ev.event, data: ev.data, afterMs: since() });
    const failureOf = eventFailure(ev);
    if (failureOf !== undefined) fail(failureOf);
    // STOP says the guest stopped, not why: QEMU's run state does.
    else if (ev.event === 'STOP') void checkStatus();
  });
  void target.qmp.closed.then(() => fail({ kind: 'exited', summary: 'QEMU exited' }));
  const early = target.panic;
  if (early !== undefined) fail({ kind: 'panicked', summary: PANICKED, panic: early });

  let timer: NodeJS.Timeout | undefined;
  try {
    let before: Map<number, ThreadSample> | undefined;
    let windowStart = 0;
    const setup = (async (): Promise<void> => {
      await checkStatus();
      const threads = await target.qmp.execute<VcpuThread[]>('query-cpus-fast', undefined, {
        timeoutMs,
      });
      windowStart = Date.now();
      before = sample(target.pid, threads, readStat);
    })().catch(monitorError);
    const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.graceMs)));
    await Promise.race([woken, Promise.all([elapsed, setup])]);
    // The end of the window: QEMU must still say running, and some vCPU must have moved.
    if (failure === undefined) await Promise.race([woken, checkStatus()]);
    let vcpus: VcpuProgress[] = [];
    if (failure === undefined && before !== undefined) {
      vcpus = progressSince(target.pid, before, readStat);
      const window = Date.now() - windowStart;
      const complete = vcpus.length > 0 && vcpus.length === before.size;
      judgeable &&= complete && window >= MIN_PROGRESS_WINDOW_MS;
      if (judgeable && vcpus.every((v) => v.ranNs === 0 && v.waitedNs === 0)) {
        const states = vcpus.map((v) => v.state).join(', ');
        fail({
          kind: 'no-progress',
          summary: `the guest made no progress: QEMU says running but no vCPU thread ran in ${window} ms (thread states ${states})`,
          status: 'running',
          vcpus,
        });
      }
    }
    if (failure === undefined) {
      const progress = judgeable && before !== undefined ? 'seen' : 'not-judged';
      return { ok: true, watchedMs: since(), progress, vcpus };
    }
    const evidence = await evidenceFor(target, failure, events, since(), opts.consoleLines);
    return { ok: false, watchedMs: since(), evidence };
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

const PANICKED = 'the guest kernel panicked';

/** The failure an event proves by itself, if any. */
function eventFailure(ev: QmpEvent): Failure | undefined {
  switch (ev.event) {
    case 'GUEST_PANICKED':
      return { kind: 'panicked', summary: PANICKED, panic: panicOf(ev) };
    case 'SHUTDOWN': {
      const reason = typeof ev.data['reason'] === 'string' ? ev.data['reason'] : 'unknown';
      return ev.data['guest'] === true
        ? { kind: 'shutdown', summary: `the guest powered itself off (${reason})` }
        : { kind: 'shutdown', summary: `QEMU was shut down (${reason})` };
    }
    case 'RESET':
      // A reset the host asked for (ferry reboot) is not the guest's doing.
      return ev.data['guest'] === true
        ? {
            kind: 'reset',
            summary: 'the guest reset itself, as a kernel set to reboot on panic does',
          }
        : undefined;
    default:
      return undefined;
  }
}

interface ThreadSample {
  cpuIndex: number;
  stat: ThreadSchedStat | undefined;
}

function sample(
  pid: number,
  threads: readonly VcpuThread[],
  read: (pid: number, tid: number) => ThreadSchedStat | undefined,
): Map<number, ThreadSample> {
  return new Map(
    threads.map((t) => [
      t['thread-id'],
      { cpuIndex: t['cpu-index'], stat: read(pid, t['thread-id']) },
    ]),
  );
}

function progressSince(
  pid: number,
  before: Map<number, ThreadSample>,
  read: (pid: number, tid: number) => ThreadSchedStat | undefined,
): VcpuProgress[] {
  const out: VcpuProgress[] = [];
  for (const [tid, then] of before) {
    const now = read(pid, tid);
    if (then.stat === undefined || now === undefined) continue;
    out.push({
      cpuIndex: then.cpuIndex,
      threadId: tid,
      ranNs: now.runNs - then.stat.runNs,
      waitedNs: now.waitNs - then.stat.waitNs,
      slices: now.slices - then.stat.slices,
      state: now.state,
    });
  }
  return out;
}

function panicOf(ev: QmpEvent): PanicRecord {
  const info = ev.data['info'];
  return {
    at: ev.timestamp.seconds * 1000 + Math.floor(ev.timestamp.microseconds / 1000),
    action: typeof ev.data['action'] === 'string' ? ev.data['action'] : 'unknown',
    ...(typeof info === 'object' && info !== null ? { info: info as Record<string, unknown> } : {}),
  };
}

function monitorFailure(target: WatchTarget, err: unknown, timeoutMs: number): Failure | undefined {
  if (target.qmp.isClosed || err instanceof QmpDisconnectedError) {
    return { kind: 'exited', summary: 'QEMU exited' };
  }
  if (err instanceof QmpTimeoutError) {
    return {
      kind: 'unresponsive',
      summary: `QEMU's monitor did not answer within ${timeoutMs} ms: ${messageOf(err)}`,
    };
  }
  return undefined;
}
