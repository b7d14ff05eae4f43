/**
 * Trying to resume a paused post-copy stream until it runs again. Once a migration is in
 * post-copy the guest's memory is split between the hosts (the destination runs it, the source
 * still holds the pages not yet sent), so a broken link has no safe rollback: the only way out
 * is to resume. A PostcopyResumer makes the tries:
 *
 * - automatically (ferryd.conf `postcopy_auto_resume = 1`, the default): after 1 s, then
 *   doubling up to 15 s between tries, forever, each one logged;
 * - on request: `ferry migrate --postcopy-resume VM URI` asks for one try now through URI
 *   (an alternate address of the destination, say), whatever the schedule; its caller gets that
 *   try's error. A try that works makes URI the one later tries use.
 *
 * With automatic tries off (the setting, or `domjobabort --postcopy`, which pauses on purpose),
 * only requested tries are made. What one try does is the caller's (source-postcopy.ts).
 * @module
 */
import { FerryError } from '../common/errors.js';
/** One try through a destination URI: resolves once the stream runs again. */
export type ResumeAttempt = (uri: string) => Promise<void>;

export interface ResumerOptions {
  /** The destination ferryd's URI the job was started with. */
  uri: string;
  attempt: ResumeAttempt;
  /** Called before each try (for the log: "post-copy paused; reconnecting to URI (try N)"). */
  onTry?: (uri: string, tryNumber: number) => void;
  /** Called when a try failed (for the log). */
  onTryFailed?: (uri: string, tryNumber: number, err: unknown) => void;
  /** Waits between automatic tries: the first, doubling up to the largest (ms). */
  backoff?: { firstMs: number; maxMs: number };
}

export const RESUME_BACKOFF = { firstMs: 1000, maxMs: 15_000 } as const;

interface Request {
  uri: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Why a requested try was not made: the stream is not paused, or the job has ended. */
export class ResumeStopped extends FerryError {
  override readonly name = 'ResumeStopped';
  constructor(why: string) {
    super('OPERATION_INVALID', `Requested operation is not valid: ${why}`);
  }
}

/** A try found the job cannot be resumed at all (its destination no longer has it): no more tries. */
export class ResumeImpossibleError extends FerryError {
  override readonly name = 'ResumeImpossibleError';
  constructor(why: string, cause?: unknown) {
    super('OPERATION_FAILED', `Cannot resume the post-copy migration: ${why}`, { cause });
  }
}

export class PostcopyResumer {
  readonly #opts: ResumerOptions;
  readonly #requests: Request[] = [];
  #uri: string;
  #auto = true;
  #tries = 0;
  #trying = false;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;

  constructor(opts: ResumerOptions) {
    this.#opts = opts;
    this.#uri = opts.uri;
  }

  /** The URI tries go through (the last one that worked, at first the job's). */
  get uri(): string {
    return this.#uri;
  }

  /** True while the stream is paused and tries are being made or awaited. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /**
   * Starts trying, automatically or only on request; resolves when a try has worked (rejects
   * when stopped). While already running, only switches the mode and returns the same promise.
   */
  start(auto: boolean): Promise<void> {
    this.#auto = auto;
    if (this.#running !== undefined) {
      this.#wake?.();
      return this.#running;
    }
    this.#tries = 0;
    const run = this.#run().finally(() => {
      this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  /** Stops automatic tries (domjobabort --postcopy): from now on only requested ones. */
  holdForUser(): void {
    this.#auto = false;
  }

  /**
   * One try through `uri` now. Rejects with that try's error (the tries go on as before), or
   * when the stream is not paused; resolves when it worked.
   */
  tryNow(uri: string): Promise<void> {
    if (this.#running === undefined || this.#stopped) {
      return Promise.reject(new ResumeStopped('the post-copy stream is not paused'));
    }
    return new Promise<void>((resolve, reject) => {
      this.#requests.push({ uri, resolve, reject });
      this.#wake?.();
    });
  }

  /** Ends the tries (the job is over): the running loop and pending requests reject. */
  stop(): void {
    this.#stopped = true;
    this.#wake?.();
    for (const r of this.#requests.splice(0)) r.reject(new ResumeStopped('the job has ended'));
  }

  /** What is being done, for domjobinfo and progress (JobStats.postcopyRecovery). */
  describe(): string | undefined {
    if (this.#running === undefined) return undefined;
    if (this.#trying) return `paused; resuming through ${this.#uri} (try ${this.#tries})`;
    if (!this.#auto) return 'paused; waiting for ferry migrate --postcopy-resume';
    return `paused; reconnecting to ${this.#uri} (try ${this.#tries + 1} next)`;
  }

  async #run(): Promise<void> {
    const { firstMs, maxMs } = this.#opts.backoff ?? RESUME_BACKOFF;
    let delay = firstMs;
    for (;;) {
      if (this.#stopped) throw new ResumeStopped('the job has ended');
      let request = this.#requests.shift();
      if (request === undefined) {
        const auto = this.#auto;
        await this.#sleep(auto ? delay : Infinity);
        request = this.#requests.shift();
        // Woken by a request, a mode change or stop(): look again before trying.
        if (request === undefined && (!auto || this.#changedSince(auto))) continue;
      }
      const uri = request?.uri ?? this.#uri;
      const tryNumber = ++this.#tries;
      this.#trying = true;
      this.#opts.onTry?.(uri, tryNumber);
      try {
        await this.#opts.attempt(uri);
      } catch (err) {
        this.#trying = false;
        this.#opts.onTryFailed?.(uri, tryNumber, err);
        request?.reject(err);
        if (err instanceof ResumeImpossibleError) {
          for (const r of this.#requests.splice(0)) r.reject(err);
          throw err;
        }
        if (request === undefined) delay = Math.min(delay * 2, maxMs);
        continue;
      }
      this.#trying = false;
      this.#uri = uri;
      request?.resolve();
      // Others asked for the same while this try ran: what they wanted has happened.
      for (const r of this.#requests.splice(0)) r.resolve();
      return;
    }
  }

  /** Read through a call: a sleep may have changed the fields the loop checked before it. */
  #changedSince(auto: boolean): boolean {
    return this.#stopped || this.#auto !== auto;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      this.#wake = done;
    });
  }
}
