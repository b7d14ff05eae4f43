/**
 * Console sessions, in memory only (a ferryd restart signs everybody out): a random token in
 * the session cookie names one; each has its user and the CSRF token its page must send back.
 * A session ends after 30 min without use or 12 h after sign-in, whichever comes first, or at
 * sign-out; ending it closes its WebSockets. An open WebSocket counts as use.
 * @module
 */
import { randomToken } from './cookies.js';

export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;

/** What a signed-in browser is. */
export interface Session {
  readonly token: string;
  readonly user: string;
  /** Sent back by the page with every state-changing request (logout, the WebSocket). */
  readonly csrf: string;
  readonly createdAt: number;
}

export interface SessionStoreOptions {
  idleMs?: number;
  absoluteMs?: number;
  /** The clock (tests pass their own). */
  now?: () => number;
  /** How often expired sessions are looked for, to close their sockets (default 60 s; 0 = never). */
  sweepMs?: number;
}

interface Entry {
  session: Session;
  lastUsed: number;
  /** Closes one open WebSocket of the session (called when the session ends). */
  closers: Set<() => void>;
}

/** See the module doc. */
export class SessionStore {
  readonly #entries = new Map<string, Entry>();
  readonly #idleMs: number;
  readonly #absoluteMs: number;
  readonly #now: () => number;
  readonly #sweep: NodeJS.Timeout | undefined;

  constructor(options: SessionStoreOptions = {}) {
    this.#idleMs = options.idleMs ?? SESSION_IDLE_MS;
    this.#absoluteMs = options.absoluteMs ?? SESSION_ABSOLUTE_MS;
    this.#now = options.now ?? Date.now;
    const sweepMs = options.sweepMs ?? 60_000;
    if (sweepMs > 0) {
      this.#sweep = setInterval(() => {
        this.sweep();
      }, sweepMs);
      this.#sweep.unref();
    }
  }

  /** Number of live sessions (tests, logs). */
  get size(): number {
    return this.#entries.size;
  }

  /** Starts a session for `user` (who has just proved their password). */
  create(user: string): Session {
    const now = this.#now();
    const session: Session = { token: randomToken(), user, csrf: randomToken(), createdAt: now };
    this.#entries.set(session.token, { session, lastUsed: now, closers: new Set() });
    return session;
  }

  /** The live session of a cookie's token, marked as used now; undefined if none or expired. */
  use(token: string | undefined): Session | undefined {
    if (token === undefined) return undefined;
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (this.#expired(entry)) {
      this.end(token);
      return undefined;
    }
    entry.lastUsed = this.#now();
    return entry.session;
  }

  /**
   * Registers an open WebSocket of the session: `close` runs when the session ends. Returns
   * the function to call when the socket closes by itself.
   */
  attach(token: string, close: () => void): () => void {
    const entry = this.#entries.get(token);
    if (entry === undefined) {
      close();
      return () => undefined;
    }
    entry.closers.add(close);
    return () => {
      entry.closers.delete(close);
      // Idle time starts when the last socket goes.
      entry.lastUsed = this.#now();
    };
  }

  /** Ends a session (sign-out, expiry) and closes its WebSockets. */
  end(token: string): void {
    const entry = this.#entries.get(token);
    if (entry === undefined) return;
    this.#entries.delete(token);
    for (const close of [...entry.closers]) close();
    entry.closers.clear();
  }

  /** Ends every expired session now (also runs on a timer). */
  sweep(): void {
    for (const [token, entry] of this.#entries) if (this.#expired(entry)) this.end(token);
  }

  /** Ends every session and stops the timer (ferryd is stopping). */
  close(): void {
    clearInterval(this.#sweep);
    for (const token of [...this.#entries.keys()]) this.end(token);
  }

  #expired(entry: Entry): boolean {
    const now = this.#now();
    if (now - entry.session.createdAt >= this.#absoluteMs) return true;
    return entry.closers.size === 0 && now - entry.lastUsed >= this.#idleMs;
  }
}
