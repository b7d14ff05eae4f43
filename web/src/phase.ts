/**
 * A running migration as the progress view shows it, from its `job.progress` samples: the
 * phase in words, a percentage that never goes backwards, the ETA, and one chart point per
 * sample. Percent and ETA are src/common/job-progress.ts's, as `ferry migrate --verbose`. DOM-free.
 * @module
 */
import {
  etaSeconds,
  jobThroughput,
  memoryStarted,
  samplePercent,
} from '../../src/common/job-progress.js';
import type { JobStats } from './rpc/types.js';

/** What the progress view shows after a sample; bytes and bytes/s. */
export interface ProgressSnapshot {
  phase: string;
  /** 0–100, never lower than before; 100 only once nothing remains. */
  percent: number;
  /** Seconds left at the current net rate; undefined while the job is not gaining. */
  etaSeconds: number | undefined;
  throughput: number;
  dirtyRate: number;
  iteration: number | undefined;
  expectedDowntimeMs: number | undefined;
  processed: number;
  memoryRemaining: number;
  /** Disk bytes still to copy; undefined without a storage copy. */
  diskRemaining: number | undefined;
  elapsedSeconds: number;
}

/** One chart sample: seconds since the start, remaining memory and disk (null: no copy). */
export interface ChartPoint {
  seconds: number;
  memory: number;
  disk: number | null;
}

/** The phase in words: "Copying storage", "Pre-copy, iteration 3", "Post-copy", "Completed"… */
export function phaseText(stats: JobStats): string {
  switch (stats.type) {
    case 'Completed':
      return 'Completed';
    case 'Cancelled':
      return 'Cancelled';
    case 'Failed':
      return 'Failed';
    case 'None':
      return 'Starting';
    case 'Unbounded':
      break;
  }
  switch (stats.status) {
    case 'setup':
      return 'Setting up';
    case 'cancelling':
      return 'Cancelling';
    case 'postcopy-paused':
    case 'postcopy-recover':
      return 'Post-copy paused';
    case 'device':
    case 'pre-switchover':
      return 'Final pass, guest paused';
  }
  if (stats.postcopy === true) return 'Post-copy';
  if (stats.diskTotal !== undefined && !memoryStarted(stats)) return 'Copying storage';
  const iteration = stats.iteration ?? 0;
  return iteration >= 1 ? `Pre-copy, iteration ${iteration}` : 'Pre-copy';
}

/** Folds samples into snapshots; one tracker per migration. */
export class ProgressTracker {
  #percent = 0;
  #last: ProgressSnapshot | undefined;

  /** The view after one more sample, and the chart point it adds. */
  update(stats: JobStats): { snapshot: ProgressSnapshot; point: ChartPoint } {
    const processed = stats.dataProcessed ?? 0;
    const remaining = stats.dataRemaining ?? 0;
    const diskRemaining = stats.diskTotal === undefined ? undefined : (stats.diskRemaining ?? 0);
    const memoryRemaining = Math.max(0, remaining - (diskRemaining ?? 0));
    // While only the disks are copied, their rate is the job's rate.
    const throughput = jobThroughput(stats);
    const dirtyRate = stats.dirtyRate ?? 0;
    this.#percent = Math.max(this.#percent, samplePercent(stats));
    const elapsedSeconds = (stats.timeElapsedMs ?? 0) / 1000;
    const snapshot: ProgressSnapshot = {
      phase: phaseText(stats),
      percent: this.#percent,
      etaSeconds: etaSeconds(stats),
      throughput,
      dirtyRate,
      iteration: stats.iteration,
      expectedDowntimeMs: stats.expectedDowntimeMs,
      processed,
      memoryRemaining,
      diskRemaining,
      elapsedSeconds,
    };
    this.#last = snapshot;
    return {
      snapshot,
      point: { seconds: elapsedSeconds, memory: memoryRemaining, disk: diskRemaining ?? null },
    };
  }

  get last(): ProgressSnapshot | undefined {
    return this.#last;
  }
}
