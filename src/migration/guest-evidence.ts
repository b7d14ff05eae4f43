/**
 * What the post-switch-over watch reports when a guest failed: the evidence a person needs to
 * believe it (the panic, QEMU's state, how QEMU ended, vCPU figures, the guest's last console
 * lines and QEMU's own log), and the error a migration raises with it.
 * @module
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { FerryError } from '../common/errors.js';
import type { PanicRecord } from '../host/index.js';
import type { ExitInfo } from '../qemu/index.js';
import type { WatchTarget } from './guest-watch.js';

const DEFAULT_CONSOLE_LINES = 30;
const QEMU_LOG_LINES = 5;
/** How long (20 × 50 ms) the evidence waits for QEMU to finish stopping a panicked guest. */
const SETTLE_TRIES = 20;
const SETTLE_STEP_MS = 50;
/** Enough for any console tail worth quoting, without reading a huge log whole. */
const TAIL_BYTES = 64 * 1024;

export type GuestFailureKind =
  'panicked' | 'stopped' | 'shutdown' | 'reset' | 'exited' | 'unresponsive' | 'no-progress';

/** What one vCPU thread did during the watch. */
export interface VcpuProgress {
  cpuIndex: number;
  threadId: number;
  ranNs: number;
  waitedNs: number;
  slices: number;
  /** Thread state at the end ('S' sleeping, 'D' waiting uninterruptibly, …). */
  state: string;
}

export interface GuestEvidence {
  kind: GuestFailureKind;
  /** One line: what failed, in words. */
  summary: string;
  /** When it was seen, in ms after the watch began. */
  afterMs: number;
  panic?: PanicRecord;
  /** QEMU's run state (query-status) when the failure was seen, if QEMU still answered. */
  status?: string;
  exit?: ExitInfo;
  vcpus?: VcpuProgress[];
  /** QMP events of interest seen during the watch. */
  events: { event: string; data: Record<string, unknown>; afterMs: number }[];
  /**
   * The end of the guest's serial console: its last lines, and the line that best says why
   * the guest died (searched further back: a panic's stack dump follows its message).
   */
  console?: { path: string; lines: string[]; key?: string };
  qemuLog?: { path: string; lines: string[] };
}

/** A failure as first seen; {@link evidenceFor} completes it. */
export type Failure = Pick<GuestEvidence, 'kind' | 'summary'> & Partial<GuestEvidence>;

/** The error a migration reports when its guest failed on the destination after the switch-over. */
export function guestFailedError(name: string, evidence: GuestEvidence): FerryError {
  const line = evidence.console?.key;
  const detail = line === undefined ? '' : `; console: ${line}`;
  return new FerryError(
    'GUEST_FAILED',
    `Migration of '${name}' completed, but the guest failed on the destination: ${evidence.summary}${detail}`,
    { data: { evidence } },
  );
}

/** What a Linux guest's console says killed it, most telling first. */
const KEY_LINES = [
  /Kernel panic - not syncing.*/,
  /(BUG:|Oops|general protection fault).*/,
  /FERRY-CORRUPT.*/,
];

/** The console line that best says why the guest died, without its timestamp. */
export function keyConsoleLine(lines: readonly string[]): string | undefined {
  for (const re of KEY_LINES) {
    for (const line of lines) {
      const m = re.exec(line);
      if (m !== null) return m[0].trim();
    }
  }
  return undefined;
}

/** Completes a failure with everything that can still be gathered about it. */
export async function evidenceFor(
  target: WatchTarget,
  failure: Failure,
  events: GuestEvidence['events'],
  afterMs: number,
  consoleLines?: number,
): Promise<GuestEvidence> {
  const evidence: GuestEvidence = { ...failure, afterMs, events: [...events] };
  if (evidence.panic === undefined && target.panic !== undefined) evidence.panic = target.panic;
  if (!target.qmp.isClosed && evidence.status === undefined && failure.kind !== 'unresponsive') {
    const status = await settledStatus(target, failure.kind);
    if (status !== undefined) evidence.status = status;
  }
  if (target.qmp.isClosed && target.exited !== undefined) {
    const exit = await Promise.race([
      target.exited,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1_000).unref()),
    ]);
    if (exit !== undefined) evidence.exit = exit;
  }
  return { ...evidence, ...fileEvidence(target.consoleLog, target.qemuLog, consoleLines) };
}

/**
 * QEMU's run state once it has acted on the failure. GUEST_PANICKED comes from the vCPU thread,
 * which only asks the main loop to stop the guest: a query answered in between still says
 * 'running' (measured: one in four right after the event).
 */
async function settledStatus(
  target: WatchTarget,
  kind: GuestEvidence['kind'],
): Promise<string | undefined> {
  const query = (): Promise<string | undefined> =>
    target.qmp
      .execute<{ status: string }>('query-status', undefined, { timeoutMs: 2_000 })
      .then((s) => s.status)
      .catch(() => undefined);
  let status = await query();
  const stopping = kind === 'panicked' || kind === 'shutdown';
  for (let i = 0; stopping && status === 'running' && i < SETTLE_TRIES; i++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_STEP_MS));
    status = await query();
  }
  return status;
}

/** The last lines of the guest's console and of QEMU's log, where the domain has them. */
export function fileEvidence(
  consoleLog: string | undefined,
  qemuLog: string | undefined,
  consoleLines = DEFAULT_CONSOLE_LINES,
): Pick<GuestEvidence, 'console' | 'qemuLog'> {
  const out: Pick<GuestEvidence, 'console' | 'qemuLog'> = {};
  if (consoleLog !== undefined) {
    const all = tailLines(consoleLog, Infinity);
    const key = keyConsoleLine(all);
    out.console = {
      path: consoleLog,
      lines: all.slice(-consoleLines),
      ...(key === undefined ? {} : { key }),
    };
  }
  if (qemuLog !== undefined) {
    out.qemuLog = { path: qemuLog, lines: tailLines(qemuLog, QEMU_LOG_LINES) };
  }
  return out;
}

/**
 * The last `n` non-empty lines of a file, within its last {@link TAIL_BYTES} (carriage
 * returns dropped); [] when unreadable.
 */
export function tailLines(path: string, n: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = statSync(path).size;
    const length = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').replaceAll('\r', '').split('\n');
    // A cut first line is a fragment, unless the whole file fitted.
    if (length < size) lines.shift();
    return lines.filter((l) => l.trim() !== '').slice(-n);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
