/**
 * QEMU's dirty page rate measurement (`calc-dirty-rate` / `query-dirty-rate`), what
 * `virsh domdirtyrate-calc` and `domstats --dirtyrate` drive.
 *
 * Only page-sampling is safe here: QEMU 7.2's dirty-bitmap mode crashes QEMU under TCG, and
 * dirty-ring needs KVM's dirty ring. QEMU's default of 512 sampled pages per GiB reads a 10
 * MiB/s guest as anything from 8 to 18 MiB/s over 1–4 s; 10000 pages reads it within ±10 %.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { QmpClient } from '../qmp/index.js';

export type DirtyRateMode = 'page-sampling' | 'dirty-bitmap' | 'dirty-ring';

/** Pages sampled per GiB of guest memory (QEMU's maximum is 10000). */
export const DIRTY_RATE_SAMPLE_PAGES = 10_000;

/** virsh's dirtyrate.calc_status: 0 never started, 1 measuring, 2 measured. */
export type DirtyRateStatus = 0 | 1 | 2;

export interface DirtyRateResult {
  status: DirtyRateStatus;
  /** Seconds since the host booted when the measurement started (QEMU's start-time). */
  startTime?: number;
  /** Seconds measured (virsh's calc_period). */
  period?: number;
  /** MiB/s (QEMU reports MB/s meaning MiB/s), when measured. */
  megabytesPerSecond?: number;
  mode?: DirtyRateMode;
  samplePages?: number;
}

/**
 * Why `mode` cannot be measured on this host, or undefined when it can. `accel` is the guest's
 * accelerator.
 */
export function unsupportedDirtyRateMode(
  mode: DirtyRateMode,
  accel: 'tcg' | 'kvm',
): string | undefined {
  if (mode === 'dirty-ring')
    return accel === 'kvm'
      ? "dirty-ring mode needs QEMU started with KVM's dirty ring (accel kvm,dirty-ring-size), which Ferry does not enable"
      : 'dirty-ring mode needs KVM; this guest runs under TCG emulation';
  if (mode === 'dirty-bitmap' && accel === 'tcg')
    return 'dirty-bitmap mode crashes QEMU 7.2 under TCG emulation; use page-sampling';
  return undefined;
}

/** Starts a measurement of `seconds` (1–60, QEMU's bounds); returns at once. */
export async function startDirtyRateCalc(
  qmp: QmpClient,
  seconds: number,
  mode: DirtyRateMode,
): Promise<void> {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60)
    throw new FerryError(
      'INVALID_ARG',
      `invalid argument: dirty rate calculation period must be 1-60 seconds, got ${seconds}`,
    );
  const args: Record<string, unknown> = { 'calc-time': seconds, mode };
  if (mode === 'page-sampling') args['sample-pages'] = DIRTY_RATE_SAMPLE_PAGES;
  await qmp.execute('calc-dirty-rate', args, { timeoutMs: 10_000 });
}

interface RawDirtyRate {
  status: 'unstarted' | 'measuring' | 'measured';
  'dirty-rate'?: number;
  'start-time': number;
  'calc-time': number;
  'sample-pages': number;
  mode?: DirtyRateMode;
}

/** The last measurement's state, as QEMU keeps it (one per QEMU process). */
export async function queryDirtyRate(qmp: QmpClient): Promise<DirtyRateResult> {
  const raw = await qmp.execute<RawDirtyRate>('query-dirty-rate', undefined, { timeoutMs: 10_000 });
  const status: DirtyRateStatus =
    raw.status === 'measured' ? 2 : raw.status === 'measuring' ? 1 : 0;
  if (status === 0) return { status };
  return {
    status,
    startTime: raw['start-time'],
    period: raw['calc-time'],
    ...(status === 2 && raw['dirty-rate'] !== undefined
      ? { megabytesPerSecond: raw['dirty-rate'] }
      : {}),
    ...(raw.mode === undefined ? {} : { mode: raw.mode }),
    samplePages: raw['sample-pages'],
  };
}

/** Measures for `seconds` and resolves with the result (page-sampling). */
export async function measureDirtyRate(
  qmp: QmpClient,
  seconds: number,
  signal?: AbortSignal,
): Promise<DirtyRateResult> {
  await startDirtyRateCalc(qmp, seconds, 'page-sampling');
  const deadline = Date.now() + seconds * 1000 + 10_000;
  await sleep(seconds * 1000, signal);
  for (;;) {
    const r = await queryDirtyRate(qmp);
    if (r.status === 2) return r;
    if (Date.now() > deadline)
      throw new FerryError(
        'OPERATION_TIMEOUT',
        `dirty rate measurement did not finish in ${seconds + 10} s`,
      );
    await sleep(100, signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });
}
