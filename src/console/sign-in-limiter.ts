/**
 * Slows password guessing at the console's sign-in: 5 failures for one key (a client address,
 * or a user name) within 5 minutes lock that key for 60 s; a key locked again within 15 minutes
 * of its last lock ending is locked twice as long, up to 15 minutes. Callers check before they
 * verify a password, so a locked key costs ferryd no hashing.
 * @module
 */

export interface SignInLimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  lockMs?: number;
  maxLockMs?: number;
  /** The clock (tests pass their own). */
  now?: () => number;
  /** Keys remembered at most (old, unlocked ones are forgotten first); bounds memory. */
  maxKeys?: number;
}

interface KeyState {
  /** Times of the failures in the current window. */
  failures: number[];
  lockedUntil: number;
  /** How many locks in a row (doubling); 0 = none recently. */
  level: number;
}

/** Whether a sign-in may be tried now, or for how long it is refused. */
export type LimitVerdict =
  { readonly locked: false } | { readonly locked: true; readonly retryAfterS: number };

export class SignInLimiter {
  readonly #keys = new Map<string, KeyState>();
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #lockMs: number;
  readonly #maxLockMs: number;
  readonly #now: () => number;
  readonly #maxKeys: number;

  constructor(options: SignInLimiterOptions = {}) {
    this.#maxFailures = options.maxFailures ?? 5;
    this.#windowMs = options.windowMs ?? 5 * 60_000;
    this.#lockMs = options.lockMs ?? 60_000;
    this.#maxLockMs = options.maxLockMs ?? 15 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /** Refused while any of `keys` is locked; says for how many (whole) seconds more. */
  check(keys: readonly string[]): LimitVerdict {
    const now = this.#now();
    let until = 0;
    for (const key of keys) until = Math.max(until, this.#keys.get(key)?.lockedUntil ?? 0);
    return until > now
      ? { locked: true, retryAfterS: Math.ceil((until - now) / 1000) }
      : { locked: false };
  }

  /** Records a failed sign-in against each of `keys`; returns the verdict for the next one. */
  fail(keys: readonly string[]): LimitVerdict {
    const now = this.#now();
    for (const key of keys) {
      const state = this.#keys.get(key) ?? { failures: [], lockedUntil: 0, level: 0 };
      this.#keys.delete(key);
      this.#keys.set(key, state); // most recently used last, for forgetting the oldest
      state.failures = state.failures.filter((t) => now - t < this.#windowMs);
      state.failures.push(now);
      if (state.failures.length < this.#maxFailures) continue;
      const repeat = state.level > 0 && now - state.lockedUntil < this.#maxLockMs;
      state.level = repeat ? state.level + 1 : 1;
      state.lockedUntil = now + Math.min(this.#lockMs * 2 ** (state.level - 1), this.#maxLockMs);
      state.failures = [];
    }
    this.#forget(now);
    return this.check(keys);
  }

  /** A successful sign-in clears the failures of its keys. */
  succeed(keys: readonly string[]): void {
    for (const key of keys) this.#keys.delete(key);
  }

  #forget(now: number): void {
    if (this.#keys.size <= this.#maxKeys) return;
    for (const [key, state] of this.#keys) {
      if (this.#keys.size <= this.#maxKeys) return;
      const quiet =
        state.lockedUntil + this.#maxLockMs <= now &&
        state.failures.every((t) => now - t >= this.#windowMs);
      if (quiet || state.lockedUntil <= now) this.#keys.delete(key);
    }
  }
}
