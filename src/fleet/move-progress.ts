/**
 * One move of a running plan as its progress line shows it, folded from the migration's
 * `job.progress` samples: the same percent and ETA as the web console's progress view
 * (web/src/phase.ts) and `ferry migrate --verbose`, so a move reads the same everywhere.
 * Pure; one per move.
 * @module
 */
import type { JobStats } from '../rpc/schema/migration.js';

export interface MoveSnapshot {
  /** 0–100, never lower than before; 100 only once nothing remains. */
  percent: number;
  /** Milliseconds left at the current net rate; undefined while the job is not gaining. */
  etaMs: number | undefined;
}

/** Whether memory pages are being sent yet (a storage copy goes first, memory waits). */
function memoryStarted(stats: JobStats): boolean {
  return (stats.memoryBandwidth ?? 0) > 0 || (stats.iteration ?? 0) > 0;
}

/**
 * Milliseconds left: what remains over the net rate. In pre-copy the guest re-dirties pages
 * as they go, so the net rate is throughput − dirty rate; in post-copy (and a storage copy
 * before memory starts) nothing is sent twice, so it is the throughput itself.
 */
function etaMs(stats: JobStats): number | undefined {
  if (stats.type === 'Completed') return 0;
  if (stats.type !== 'Unbounded') return undefined;
  const started = memoryStarted(stats);
  const throughput = started ? (stats.memoryBandwidth ?? 0) : (stats.diskBandwidth ?? 0);
  const net =
    stats.postcopy === true || !started ? throughput : throughput - (stats.dirtyRate ?? 0);
  return net > 0 ? Math.round(((stats.dataRemaining ?? 0) * 1000) / net) : undefined;
}

/** See the module doc. */
export class MoveProgress {
  #percent = 0;
  #etaMs: number | undefined;

  /** The move after one more sample. */
  update(stats: JobStats): MoveSnapshot {
    const processed = stats.dataProcessed ?? 0;
    const remaining = stats.dataRemaining ?? 0;
    const sum = processed + remaining;
    let raw = sum > 0 ? Math.floor((processed * 100) / sum) : 0;
    // Each pre-copy pass re-sends what the guest dirtied: hold the highest value reached.
    if (remaining > 0) raw = Math.min(raw, 99);
    if (stats.type === 'Completed') raw = 100;
    this.#percent = Math.max(this.#percent, raw);
    this.#etaMs = etaMs(stats);
    return this.snapshot();
  }

  /** The move ended successfully. */
  complete(): MoveSnapshot {
    this.#percent = 100;
    this.#etaMs = 0;
    return this.snapshot();
  }

  snapshot(): MoveSnapshot {
    return { percent: this.#percent, etaMs: this.#etaMs };
  }
}
