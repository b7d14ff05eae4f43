/**
 * Carrying out a plan: its moves in `order`, at most `plan.parallel` at once, each a
 * migration run by an injected {@link MoveRunner} (ferryd's asks the source host; tests fake
 * it). The moves' `job.progress` samples fold into one {@link PlanProgress}, sent at most
 * 4 times a second. The first failure stops scheduling (unless keepGoing), as stop() does:
 * moves under way finish (or roll back, as every migration does), the rest are `skipped`, so
 * every guest stays on exactly one host. Completed evacuation moves are recorded for undo
 * (with `record`); completed undo moves forget their record.
 * @module
 */
import { messageOf } from '../common/errors.js';
import type { Plan, PlannedMove, PlanProgress } from '../rpc/schema/fleet-plan.js';
import type { JobStats } from '../rpc/schema/migration.js';
import { MoveProgress } from './move-progress.js';
import type { ReturnRecord } from './return-records.js';

/** What a finished migration tells the plan. */
export interface MoveOutcome {
  downtimeMs?: number | undefined;
}

/**
 * Runs one move's migration to its end, passing on its `job.progress` samples; rejects when
 * the migration failed (it has rolled back by then).
 */
export type MoveRunner = (
  move: PlannedMove,
  onProgress: (stats: JobStats) => void,
) => Promise<MoveOutcome>;

/** Where evacuated guests came from (ReturnRecords fits). */
export interface ReturnBook {
  add(record: ReturnRecord): Promise<void>;
  remove(uuid: string): Promise<void>;
}

/** Time as the run reads it; tests pass a fake one to check the throttle. */
export interface RunClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_CLOCK: RunClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** At most 4 progress notifications a second: enough for a bar, cheap for a console. */
export const PROGRESS_INTERVAL_MS = 250;

export interface PlanRunOptions {
  plan: Plan;
  runMove: MoveRunner;
  /** Keep starting moves after one failed. */
  keepGoing?: boolean;
  /** An evacuation records where each moved guest came from (in `returns`). */
  record?: boolean;
  /** Needed by `record` and by undo plans (which forget what came home). */
  returns?: ReturnBook | undefined;
  /** Throttled progress; the final progress (finished) is always sent. */
  onProgress?: (progress: PlanProgress) => void;
  clock?: RunClock;
}

type MoveEntry = PlanProgress['moves'][number];

interface MoveRun {
  readonly move: PlannedMove;
  readonly entry: MoveEntry;
  readonly progress: MoveProgress;
  startedAt?: number;
}

/** One run of a plan; start() once. */
export class PlanRun {
  readonly #plan: Plan;
  readonly #runMove: MoveRunner;
  readonly #keepGoing: boolean;
  readonly #record: boolean;
  readonly #returns: ReturnBook | undefined;
  readonly #onProgress: (progress: PlanProgress) => void;
  readonly #clock: RunClock;
  readonly #moves: MoveRun[];
  #next = 0;
  #running = 0;
  #startedAt = 0;
  #stoppedBecause: string | undefined;
  #finished = false;
  #resolve: (progress: PlanProgress) => void = () => undefined;
  #lastSent = Number.NEGATIVE_INFINITY;
  #timer: unknown;

  constructor(options: PlanRunOptions) {
    this.#plan = options.plan;
    this.#runMove = options.runMove;
    this.#keepGoing = options.keepGoing ?? false;
    this.#record = options.record ?? false;
    this.#returns = options.returns;
    this.#onProgress = options.onProgress ?? (() => undefined);
    this.#clock = options.clock ?? REAL_CLOCK;
    this.#moves = [...options.plan.moves]
      .sort((a, b) => a.order - b.order)
      .map((move) => ({
        move,
        progress: new MoveProgress(),
        entry: {
          order: move.order,
          guest: move.guest,
          from: move.from,
          to: move.to,
          state: 'pending',
          percent: 0,
        },
      }));
  }

  /** Runs the plan; resolves with the final progress once no move runs and none will start. */
  start(): Promise<PlanProgress> {
    const done = new Promise<PlanProgress>((resolve) => (this.#resolve = resolve));
    this.#startedAt = this.#clock.now();
    this.#pump();
    return done;
  }

  /** Moves under way now. */
  get running(): number {
    return this.#running;
  }

  /**
   * No new moves: the pending ones become `skipped`; those under way finish or roll back.
   * The first reason given is the one reported. Returns how many are still under way.
   */
  stop(reason: string): number {
    if (!this.#finished) this.#halt(reason);
    return this.#running;
  }

  /** The plan's progress now. */
  progress(): PlanProgress {
    const now = this.#clock.now();
    const moves = this.#moves.map((m) => ({
      ...m.entry,
      ...(m.entry.state === 'running' && m.startedAt !== undefined
        ? { elapsedMs: now - m.startedAt }
        : {}),
    }));
    const eta = this.#finished ? 0 : this.#overallEtaMs(now);
    return {
      planId: this.#plan.id,
      moves,
      overallPercent: this.#overallPercent(),
      ...(eta === undefined ? {} : { overallEtaMs: eta }),
      elapsedMs: now - this.#startedAt,
      finished: this.#finished,
      ...(this.#stoppedBecause === undefined ? {} : { stoppedBecause: this.#stoppedBecause }),
    };
  }

  #pump(): void {
    while (
      this.#stoppedBecause === undefined &&
      this.#running < this.#plan.parallel &&
      this.#next < this.#moves.length
    ) {
      const m = this.#moves[this.#next++];
      if (m !== undefined) void this.#run(m);
    }
    const noneLeft = this.#stoppedBecause !== undefined || this.#next >= this.#moves.length;
    if (this.#running === 0 && noneLeft) this.#finish();
    else this.#send(false);
  }

  async #run(m: MoveRun): Promise<void> {
    this.#running++;
    m.startedAt = this.#clock.now();
    m.entry.state = 'running';
    try {
      const outcome = await this.#runMove(m.move, (stats) => {
        const s = m.progress.update(stats);
        m.entry.percent = s.percent;
        if (s.etaMs === undefined) delete m.entry.etaMs;
        else m.entry.etaMs = s.etaMs;
        this.#send(false);
      });
      const problem = await this.#remember(m.move);
      m.entry.state = 'completed';
      m.entry.percent = m.progress.complete().percent;
      delete m.entry.etaMs;
      if (outcome.downtimeMs !== undefined) m.entry.downtimeMs = outcome.downtimeMs;
      // The guest moved; the plan goes on. Only the record of it is missing.
      if (problem !== undefined) m.entry.error = problem;
    } catch (err) {
      m.entry.state = 'failed';
      delete m.entry.etaMs;
      m.entry.error = messageOf(err);
      if (!this.#keepGoing) this.#halt(`moving ${m.move.guest} failed: ${m.entry.error}`);
    }
    m.entry.elapsedMs = this.#clock.now() - m.startedAt;
    this.#running--;
    this.#pump();
  }

  /** Records an evacuated guest, or forgets one that came home; a problem in words. */
  async #remember(move: PlannedMove): Promise<string | undefined> {
    const returns = this.#returns;
    if (returns === undefined) return undefined;
    try {
      if (this.#plan.kind === 'undo') await returns.remove(move.uuid);
      else if (this.#plan.kind === 'evacuate' && this.#record)
        await returns.add({ host: move.from, guest: move.guest, uuid: move.uuid, to: move.to });
      return undefined;
    } catch (err) {
      return `moved, but where it came from was not recorded: ${messageOf(err)}`;
    }
  }

  #halt(reason: string): void {
    this.#stoppedBecause ??= reason;
    for (const m of this.#moves.slice(this.#next)) m.entry.state = 'skipped';
    this.#next = this.#moves.length;
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#send(true);
    this.#resolve(this.progress());
  }

  /** Sends now if the last one is old enough (or `final`), else once the interval is over. */
  #send(final: boolean): void {
    const now = this.#clock.now();
    const due = this.#lastSent + PROGRESS_INTERVAL_MS;
    if (final || now >= due) {
      if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#lastSent = now;
      this.#onProgress(this.progress());
      return;
    }
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#finished) this.#send(false);
    }, due - now);
  }

  /** By bytes: each move weighs its guest's memory; failed and skipped ones drop out. */
  #overallPercent(): number {
    let total = 0;
    let done = 0;
    for (const { move, entry } of this.#moves) {
      if (entry.state === 'failed' || entry.state === 'skipped') continue;
      const weight = Math.max(1, move.memoryKiB);
      total += weight;
      done += (weight * entry.percent) / 100;
    }
    if (total === 0) return this.#finished ? 100 : 0;
    return Math.min(100, Math.floor((done * 100) / total));
  }

  /**
   * The moves still to run laid out on `parallel` slots, as the plan predicted its total:
   * a running move takes its own ETA (its prediction less its time so far until it has one),
   * a pending one its prediction; the overall ETA is when the last slot ends.
   */
  #overallEtaMs(now: number): number | undefined {
    const slots: number[] = [];
    for (const m of this.#moves) {
      if (m.entry.state !== 'running') continue;
      const elapsed = now - (m.startedAt ?? now);
      slots.push(m.entry.etaMs ?? Math.max(0, m.move.predictedMs - elapsed));
    }
    while (slots.length < this.#plan.parallel) slots.push(0);
    slots.sort((a, b) => a - b);
    for (const m of this.#moves) {
      if (m.entry.state !== 'pending') continue;
      const first = slots.shift() ?? 0;
      slots.push(first + m.move.predictedMs);
      slots.sort((a, b) => a - b);
    }
    return Math.round(slots.at(-1) ?? 0);
  }
}
