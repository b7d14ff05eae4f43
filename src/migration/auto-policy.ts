/**
 * `ferry migrate --auto`: a pre-copy that stops converging is escalated step by step — more
 * downtime allowed (up to a bound), then auto-converge, then post-copy — each step logged
 * with why. {@link AutoPolicy} decides from the watch's samples (pure, unit-tested on recorded
 * sequences); {@link AutoPolicyRunner} applies its steps to QEMU.
 *
 * QEMU 7.2 refuses to change capabilities once `migrate` runs, so an --auto job arms them at
 * the start: postcopy-ram (when the job allows it) and auto-converge, the latter dormant with
 * cpu-throttle-initial = max-cpu-throttle = 1 (QEMU applies the initial percentage when it
 * first throttles, then MIN(now + increment, max-cpu-throttle): it stays at 1 %). Parameters
 * can change mid-job, so the auto-converge step raises max-cpu-throttle and the increment.
 * @module
 */
import { messageOf } from '../common/errors.js';
import type { Logger } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { JobStats, MigrateFlags } from '../rpc/schema/migration.js';
import type { JobControl } from './source-watch.js';

/** The highest max downtime step 1 may set, unless --auto-max-downtime says otherwise. */
export const DEFAULT_AUTO_MAX_DOWNTIME_MS = 2000;
/** How far step 2 may slow the guest's vCPUs (%), unless --auto-max-throttle says otherwise. */
export const DEFAULT_AUTO_MAX_THROTTLE = 99;
/** The dormant throttle: QEMU's smallest, held there by max-cpu-throttle until step 2. */
export const DORMANT_THROTTLE = 1;
/** Step 2's increment per throttling round (QEMU's default is 10; rounds come every 2 passes). */
export const AUTO_THROTTLE_INCREMENT = 20;
/**
 * Passes after the last step whose starting backlog is no smaller (≥ 90 %) than the one
 * before: this many in a row mean the current setting will not converge.
 */
export const AUTO_STUCK_PASSES = 2;
/** Passes after step 2 before post-copy even if the throttle never reached its maximum. */
export const AUTO_THROTTLE_PASSES = 12;

export type AutoStep =
  | { step: 'downtime'; downtimeMs: number; why: string }
  | { step: 'auto-converge'; maxThrottle: number; why: string }
  | { step: 'postcopy'; why: string }
  /** Nothing left to try (post-copy not allowed): said once, the job goes on. */
  | { step: 'exhausted'; why: string };

export interface AutoPolicyOptions {
  /** The max downtime the job starts with (ms). */
  startDowntimeMs: number;
  /** Step 1's bound (ms). */
  maxDowntimeMs: number;
  /** Step 2's throttle bound (%). */
  maxThrottle: number;
  /** Whether the job may switch to post-copy (postcopy-ram armed). */
  postcopy: boolean;
}

const MiB = 1024 * 1024;

/** Decides, sample by sample, when the pre-copy is stuck and what to try next. Pure. */
export class AutoPolicy {
  #stage: 'downtime' | 'throttle' | 'throttled' | 'done' = 'downtime';
  #downtimeMs: number;
  /** Backlog at the start of each pass since the last step, latest last. */
  #passStarts: number[] = [];
  #iteration: number | undefined;
  #passesSinceThrottle = 0;

  constructor(readonly options: AutoPolicyOptions) {
    this.#downtimeMs = options.startDowntimeMs;
  }

  /** Folds in one pre-copy sample; returns the step to apply now, if any. */
  next(s: JobStats): AutoStep | undefined {
    if (this.#stage === 'done' || s.status !== 'active' || s.postcopy === true) return undefined;
    if (s.iteration === undefined || s.dataRemaining === undefined) return undefined;
    if (s.iteration === this.#iteration) return undefined;
    this.#iteration = s.iteration;
    // Pass 1 sends all of memory once; convergence is judged from pass 2 on.
    if (s.iteration < 2) return undefined;
    this.#passStarts.push(s.dataRemaining);
    if (this.#stage === 'throttled') this.#passesSinceThrottle++;
    if (!this.#stuck()) return undefined;
    const backlog = `each of the last ${AUTO_STUCK_PASSES} passes started with about ${mib(s.dataRemaining)} MiB again (dirty rate ${mib(s.dirtyRate ?? 0)} MiB/s, throughput ${mib(s.memoryBandwidth ?? 0)} MiB/s)`;
    const step = this.#decide(s, backlog);
    if (step !== undefined) this.#passStarts = [];
    return step;
  }

  #decide(s: JobStats, backlog: string): AutoStep | undefined {
    const expected = s.expectedDowntimeMs;
    const expectedText = expected === undefined ? '' : `; expected downtime ${expected} ms`;
    if (this.#stage === 'downtime') {
      if (this.#downtimeMs < this.options.maxDowntimeMs) {
        // Doubling, or at once as much as QEMU's estimate needs (with a margin): a smaller
        // step would only cost more passes.
        const before = this.#downtimeMs;
        const wanted = Math.max(2 * before, roundUp(1.25 * (expected ?? 0), 100));
        this.#downtimeMs = Math.min(this.options.maxDowntimeMs, wanted);
        return {
          step: 'downtime',
          downtimeMs: this.#downtimeMs,
          why: `${backlog}${expectedText}, max downtime ${before} ms`,
        };
      }
      this.#stage = 'throttle';
    }
    if (this.#stage === 'throttle') {
      this.#stage = 'throttled';
      this.#passesSinceThrottle = 0;
      return {
        step: 'auto-converge',
        maxThrottle: this.options.maxThrottle,
        why: `${backlog}${expectedText}, with max downtime at its bound ${this.options.maxDowntimeMs} ms`,
      };
    }
    // Throttled: give the throttle its rounds (one every 2 passes) before giving up on it.
    const throttle = s.autoConvergeThrottle ?? 0;
    if (throttle < this.options.maxThrottle && this.#passesSinceThrottle < AUTO_THROTTLE_PASSES)
      return undefined;
    this.#stage = 'done';
    const why = `${backlog}${expectedText}, with the guest throttled by ${throttle} %`;
    return this.options.postcopy
      ? { step: 'postcopy', why }
      : {
          step: 'exhausted',
          why: `${why}; post-copy is not possible for this job, so it goes on as it is (ferry domjobabort to stop it)`,
        };
  }

  #stuck(): boolean {
    const starts = this.#passStarts.slice(-(AUTO_STUCK_PASSES + 1));
    if (starts.length <= AUTO_STUCK_PASSES) return false;
    return starts.slice(1).every((start, i) => start >= 0.9 * (starts[i] ?? 0));
  }
}

/** Whether an --auto job may switch to post-copy: QEMU 7.2 cannot with multifd or copied disks. */
export function autoPostcopyAllowed(f: MigrateFlags): boolean {
  return f.auto === true && !f.parallel && !f.copyStorageAll && !f.copyStorageInc;
}

/** The policy's bounds for a job with these flags, starting from the domain's max downtime. */
export function autoOptions(f: MigrateFlags, tuning: { downtimeMs: number }): AutoPolicyOptions {
  return {
    startDowntimeMs: tuning.downtimeMs,
    maxDowntimeMs: f.autoMaxDowntime ?? DEFAULT_AUTO_MAX_DOWNTIME_MS,
    maxThrottle: f.autoMaxThrottle ?? DEFAULT_AUTO_MAX_THROTTLE,
    postcopy: autoPostcopyAllowed(f),
  };
}

/** The one-line account of a step, as logged, shown by --verbose and in domjobinfo. */
export function describeStep(n: number, step: AutoStep): string {
  const what =
    step.step === 'downtime'
      ? `max downtime raised to ${step.downtimeMs} ms`
      : step.step === 'auto-converge'
        ? `auto-converge woken (vCPU throttle up to ${step.maxThrottle} %)`
        : step.step === 'postcopy'
          ? 'switched to post-copy'
          : 'no step left';
  return `auto step ${n}: ${what}: ${step.why}`;
}

/** Applies an {@link AutoPolicy}'s steps to the source QEMU of a running job. */
export class AutoPolicyRunner {
  readonly #policy: AutoPolicy;
  #count = 0;

  constructor(
    private readonly qmp: QmpClient,
    private readonly control: JobControl,
    private readonly log: Logger,
    private readonly domain: string,
    options: AutoPolicyOptions,
  ) {
    this.#policy = new AutoPolicy(options);
  }

  /** Called with each pre-copy sample of the watch. */
  async onSample(stats: JobStats): Promise<void> {
    // A post-copy asked for by the user (migrate-postcopy) leaves nothing to decide.
    if (this.control.postcopyRequested) return;
    const step = this.#policy.next(stats);
    if (step === undefined) return;
    const text = describeStep(++this.#count, step);
    try {
      await this.#apply(step);
    } catch (err) {
      // The job itself is fine (it may just have ended): say so, and let the watch go on.
      this.log.warn({ domain: this.domain, err: messageOf(err) }, `${text} (not applied)`);
      return;
    }
    this.control.autoSteps = [...(this.control.autoSteps ?? []), text];
    this.log.info({ domain: this.domain, step: step.step, iteration: stats.iteration }, text);
  }

  async #apply(step: AutoStep): Promise<void> {
    if (step.step === 'downtime')
      await this.qmp.execute('migrate-set-parameters', { 'downtime-limit': step.downtimeMs });
    else if (step.step === 'auto-converge')
      await this.qmp.execute('migrate-set-parameters', {
        'max-cpu-throttle': step.maxThrottle,
        'cpu-throttle-increment': AUTO_THROTTLE_INCREMENT,
      });
    else if (step.step === 'postcopy') {
      this.control.postcopyRequested = true;
      await this.qmp.execute('migrate-start-postcopy');
    }
  }
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

function roundUp(value: number, unit: number): number {
  return Math.ceil(value / unit) * unit;
}
