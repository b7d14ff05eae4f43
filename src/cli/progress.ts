/**
 * `ferry migrate --verbose`: a model of the running job built from its `job.progress` samples
 * (a percentage that never goes backwards, ETA, a one-time "not converging" warning), and the
 * two ways of showing it: a redrawn cli-progress bar on a terminal, virsh's
 * `\rMigration: [ NN %]` text otherwise.
 * @module
 */
import cliProgress from 'cli-progress';
import { etaSeconds, jobThroughput, samplePercent } from '../common/job-progress.js';
import type { JobStats } from '../rpc/schema/migration.js';

const MiB = 1024 * 1024;

/** What the model knows after a sample; byte counts and rates in bytes and bytes/s. */
export interface ProgressSnapshot {
  /** 0–100, never lower than an earlier snapshot's; 100 only once nothing remains. */
  percent: number;
  processed: number;
  remaining: number;
  total: number;
  throughput: number;
  dirtyRate: number;
  iteration: number | undefined;
  /** Seconds left at the current net rate; undefined when the job is not gaining. */
  etaSeconds: number | undefined;
  /** A storage copy's share of processed/total (the rest is memory); absent without one. */
  disk?: { processed: number; total: number };
}

export interface ProgressUpdate {
  snapshot: ProgressSnapshot;
  /** Set once, on the first sample where the job looks stuck. */
  warning?: string;
}

/** How many samples without a new low in `remaining` count as "stopped shrinking". */
export const DEFAULT_STALL_SAMPLES = 5;
/**
 * Passes whose starting backlog is no smaller than the one before them: a pre-copy that
 * converges starts each pass with less to send, so this many in a row means it will not,
 * whatever the reason (the dirty rate, or a downtime limit the last pass cannot meet).
 */
export const STUCK_PASSES = 4;

/**
 * The job as the CLI sees it. Pure: fed samples, returns what to show.
 *
 * Percent and ETA are src/common/job-progress.ts's (as the web console's and a fleet plan's),
 * the percentage held at the highest value reached: virsh's 100 − remaining/total drops back
 * at every pre-copy pass (90 % → 66 %, see NOTES.md), and a bar going backwards reads as
 * "broken".
 */
export class ProgressModel {
  #percent = 0;
  #lowestRemaining = Number.POSITIVE_INFINITY;
  #stalled = 0;
  #warned = false;
  /** Remaining bytes at the first sample of each pass (iteration), latest last. */
  #passStarts: number[] = [];
  #iteration: number | undefined;
  #last: ProgressSnapshot | undefined;

  constructor(readonly stallSamples = DEFAULT_STALL_SAMPLES) {}

  /** Folds in one `job.progress` sample. */
  update(stats: JobStats): ProgressUpdate {
    const processed = stats.dataProcessed ?? 0;
    const remaining = stats.dataRemaining ?? 0;
    const throughput = jobThroughput(stats);
    const dirtyRate = stats.dirtyRate ?? 0;
    this.#percent = Math.max(this.#percent, samplePercent(stats));

    let warning: string | undefined;
    if (stats.dataRemaining !== undefined && stats.postcopy !== true) {
      // Post-copy always finishes (the destination pulls what is missing), so it never warns.
      if (remaining < this.#lowestRemaining) {
        this.#lowestRemaining = remaining;
        this.#stalled = 0;
      } else {
        this.#stalled++;
      }
      if (stats.iteration !== undefined && stats.iteration !== this.#iteration) {
        this.#iteration = stats.iteration;
        this.#passStarts.push(remaining);
      }
      if (!this.#warned && this.#stalled >= this.stallSamples && throughput > 0) {
        if (dirtyRate >= throughput) {
          this.#warned = true;
          warning = `warning: not converging: dirty rate ${mib(dirtyRate)} MiB/s \u2265 throughput ${mib(throughput)} MiB/s\n`;
        } else if (this.#passesStuck()) {
          this.#warned = true;
          warning = `warning: not converging: each pass starts with about ${mib(this.#passStarts.at(-1) ?? remaining)} MiB again (dirty rate ${mib(dirtyRate)} MiB/s, throughput ${mib(throughput)} MiB/s); try --auto-converge, --postcopy or a larger migrate-setmaxdowntime\n`;
        }
      }
    }
    this.#last = {
      percent: this.#percent,
      processed,
      remaining,
      total: stats.dataTotal ?? 0,
      throughput,
      dirtyRate,
      iteration: stats.iteration,
      etaSeconds: etaSeconds(stats),
      ...(stats.diskTotal === undefined
        ? {}
        : { disk: { processed: stats.diskProcessed ?? 0, total: stats.diskTotal } }),
    };
    return warning === undefined ? { snapshot: this.#last } : { snapshot: this.#last, warning };
  }

  /** Whether the last {@link STUCK_PASSES} passes each started with at least 90 % of the backlog before. */
  #passesStuck(): boolean {
    const starts = this.#passStarts.slice(-(STUCK_PASSES + 1));
    if (starts.length <= STUCK_PASSES) return false;
    return starts.slice(1).every((s, i) => s >= 0.9 * (starts[i] ?? 0));
  }

  /** The job ended successfully: everything is across. */
  complete(): ProgressSnapshot {
    this.#percent = 100;
    const last = this.#last ?? emptySnapshot();
    this.#last = { ...last, percent: 100, remaining: 0, etaSeconds: 0 };
    return this.#last;
  }
}

function emptySnapshot(): ProgressSnapshot {
  return {
    percent: 0,
    processed: 0,
    remaining: 0,
    total: 0,
    throughput: 0,
    dirtyRate: 0,
    iteration: undefined,
    etaSeconds: undefined,
  };
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

/**
 * The lines `ferry migrate` shows when a post-copy stream pauses and runs again (the link
 * between the hosts broke and came back), fed the same samples as the progress view.
 */
export class PostcopyNotices {
  #paused = false;

  /** The line to show for this sample, if its post-copy state changed. */
  next(stats: JobStats): string | undefined {
    const paused = stats.status === 'postcopy-paused';
    if (paused === this.#paused) return undefined;
    this.#paused = paused;
    if (!paused) return 'post-copy resumed\n';
    return stats.postcopyRecovery?.includes('--postcopy-resume') === true
      ? 'post-copy paused, waiting for ferry migrate --postcopy-resume\n'
      : 'post-copy paused, reconnecting\u2026\n';
  }
}

/** The `--auto` steps a job took since the last sample, one line each (shown by --verbose). */
export class AutoStepNotices {
  #shown = 0;

  next(stats: JobStats): string[] {
    const steps = stats.autoSteps ?? [];
    const fresh = steps.slice(this.#shown);
    this.#shown = Math.max(this.#shown, steps.length);
    return fresh.map((s) => `${s}\n`);
  }
}

/** `42s`, `3m05s`, `1h02m`; `--` when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** virsh's progress text (`virshPrintJobProgress`: `\r%s: [%3d %%]`), written without a newline. */
export function virshProgressText(percent: number): string {
  return `\rMigration: [${String(percent).padStart(3)} %]`;
}

/** The custom tokens of the terminal bar for a snapshot. */
export function barPayload(s: ProgressSnapshot): Record<string, string> {
  return {
    done: mib(s.processed),
    size: mib(s.total),
    disks: s.disk === undefined ? '' : ` (disks ${mib(s.disk.processed)}/${mib(s.disk.total)} MiB)`,
    rate: mib(s.throughput),
    dirty: mib(s.dirtyRate),
    iter: s.iteration === undefined ? '-' : String(s.iteration),
    etaText: formatEta(s.etaSeconds),
  };
}

/** Shows a running migration; every method is safe to call in any state. */
export interface ProgressView {
  /** One `job.progress` sample. */
  sample(stats: JobStats): void;
  /** Stops drawing so that a prompt or message can use the line. */
  pause(): void;
  /** Draws again after pause(). */
  resume(): void;
  /** Writes a whole line (e.g. a warning) without tearing the progress display. */
  message(text: string): void;
  /** The job ended: on success shows 100 %; on failure leaves the last state for the error. */
  finish(ok: boolean): void;
}

/** For `ferry migrate` without --verbose: shows nothing, as virsh does. */
export const SILENT_VIEW: ProgressView = {
  sample: () => undefined,
  pause: () => undefined,
  resume: () => undefined,
  message: () => undefined,
  finish: () => undefined,
};

/**
 * virsh's non-terminal form on stderr: `\rMigration: [ NN %]` per change, `\rMigration: [100 %]`
 * at the end. Like virsh it writes no newline: its caller's blank line on stdout (or an
 * `error:` line on stderr) ends it, which gives virsh's bytes when both streams are captured.
 */
export function plainView(
  write: (text: string) => void,
  model = new ProgressModel(),
): ProgressView {
  let shown: number | undefined;
  let lineOpen = false;
  const breakLine = (): void => {
    if (lineOpen) write('\n');
    lineOpen = false;
  };
  const message = (text: string): void => {
    breakLine();
    write(text);
    shown = undefined;
  };
  return {
    sample(stats) {
      const { snapshot, warning } = model.update(stats);
      if (warning !== undefined) message(warning);
      // virsh prints nothing until the job knows its size (`jobinfo.dataTotal > 0`).
      if ((stats.dataTotal ?? 0) > 0 && snapshot.percent !== shown) {
        write(virshProgressText(snapshot.percent));
        shown = snapshot.percent;
        lineOpen = true;
      }
    },
    pause: breakLine,
    resume: () => undefined,
    message,
    finish(ok) {
      if (!ok) return;
      model.complete();
      write(virshProgressText(100));
      lineOpen = true;
    },
  };
}

/** A cli-progress bar redrawn in place on a terminal `stream` (stderr). */
export function barView(stream: NodeJS.WriteStream, model = new ProgressModel()): ProgressView {
  const bar = new cliProgress.SingleBar({
    stream,
    // Our own ETA token: cli-progress fills `{eta}` itself, from the bar's value over time.
    format:
      'Migration [{bar}] {percentage}% | {done}/{size} MiB{disks} | {rate} MiB/s | dirty {dirty} MiB/s | iter {iter} | ETA {etaText}',
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    barsize: 25,
    hideCursor: false,
    // The migrate command handles Ctrl-C itself (it may ask, then keep going).
    gracefulExit: false,
    linewrap: null,
  });
  let last: ProgressSnapshot | undefined;
  let paused = false;
  let done = false;
  const draw = (s: ProgressSnapshot): void => {
    if (bar.isActive) bar.update(s.percent, barPayload(s));
    else bar.start(100, s.percent, barPayload(s));
  };
  const stop = (): void => {
    // stop() renders once more and moves to a new line, so the last state stays visible.
    if (bar.isActive) bar.stop();
  };
  const message = (text: string): void => {
    stop();
    stream.write(text);
    if (last !== undefined && !paused && !done) draw(last);
  };
  return {
    sample(stats) {
      if (done) return;
      const { snapshot, warning } = model.update(stats);
      if ((stats.dataTotal ?? 0) > 0) last = snapshot;
      if (warning !== undefined) message(warning);
      if (last !== undefined && !paused) draw(last);
    },
    pause() {
      paused = true;
      stop();
    },
    resume() {
      paused = false;
      if (last !== undefined && !done) draw(last);
    },
    message,
    finish(ok) {
      done = true;
      if (ok) draw((last = model.complete()));
      stop();
    },
  };
}
