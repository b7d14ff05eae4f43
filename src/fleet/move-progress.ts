/**
 * One move of a running plan as its progress line shows it, folded from the migration's
 * `job.progress` samples: percent and ETA as src/common/job-progress.ts reads them, as the
 * web console's progress view and `ferry migrate --verbose` do.
 * Pure; one per move.
 * @module
 */
import { etaSeconds, samplePercent } from '../common/job-progress.js';
import type { JobStats } from '../rpc/schema/migration.js';

export interface MoveSnapshot {
  /** 0–100, never lower than before; 100 only once nothing remains. */
  percent: number;
  /** Milliseconds left at the current net rate; undefined while the job is not gaining. */
  etaMs: number | undefined;
}

/** See the module doc. */
export class MoveProgress {
  #percent = 0;
  #etaMs: number | undefined;

  /** The move after one more sample. */
  update(stats: JobStats): MoveSnapshot {
    this.#percent = Math.max(this.#percent, samplePercent(stats));
    const eta = etaSeconds(stats);
    this.#etaMs = eta === undefined ? undefined : Math.round(eta * 1000);
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
