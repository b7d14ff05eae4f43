/**
 * One connection's login, server side: whether it must log in, the SCRAM exchange in
 * progress, and who it is once done. Until then every call but `auth.*` fails with
 * "authentication required". Failures are logged (peer, user) and answered only after a
 * short random delay, one at a time per connection, to slow password guessing.
 * @module
 */
import { createHmac, randomBytes } from 'node:crypto';
import { FerryError, messageOf } from '../common/errors.js';
import { readAccounts } from './accounts.js';
import {
  DEFAULT_SCRAM_ITERATIONS,
  SCRAM_MECHANISM,
  ScramServerExchange,
  parseClientFirst,
  type ScramVerifier,
} from './scram.js';

/** The methods a connection may call before logging in. */
export const AUTH_METHODS = ['auth.list', 'auth.start', 'auth.step'] as const;

/** The subset of a pino logger the login uses. */
export interface LoginLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LoginOptions {
  /** The accounts file, read at each login (ferryd.conf auth_users_file). */
  accountsFile: string;
  log: LoginLogger;
  /** How long to hold back the answer to a failed attempt (default 200–500 ms). */
  failureDelayMs?: () => number;
}

const defaultFailureDelay = (): number => 200 + Math.floor(Math.random() * 300);

// Decoy verifiers for unknown users are derived from this, so the same unknown name always
// gets the same salt: a changing salt would tell a prober that the name does not exist.
const DECOY_SECRET = randomBytes(32);

function decoyVerifier(user: string): ScramVerifier {
  const digest = (label: string): Buffer =>
    createHmac('sha256', DECOY_SECRET).update(`${label}\0${user}`).digest();
  return {
    iterations: DEFAULT_SCRAM_ITERATIONS,
    salt: digest('salt').subarray(0, 16),
    storedKey: digest('stored'),
    serverKey: digest('server'),
  };
}

const INVALID_LOGIN = 'authentication failed: invalid user name or password';

/** See the module doc; one per connection. */
export class ConnectionLogin {
  readonly #peer: string;
  readonly #required: boolean;
  readonly #options: LoginOptions;
  #user: string | undefined;
  #exchange: { user: string; scram: ScramServerExchange } | undefined;
  // Attempts on one connection run one after another, so parallel guesses wait their turn.
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * `signedInAs`: the peer was authenticated before the connection reached RPC (the web
   * console's WebSocket, opened from a signed-in session), so it starts logged in as that user.
   */
  constructor(peer: string, required: boolean, options: LoginOptions, signedInAs?: string) {
    this.#peer = peer;
    this.#required = required || signedInAs !== undefined;
    this.#options = options;
    this.#user = signedInAs;
  }

  /** The logged-in user, once the exchange has succeeded. */
  get user(): string | undefined {
    return this.#user;
  }

  /** Whether calls other than `auth.*` are allowed. */
  get authenticated(): boolean {
    return !this.#required || this.#user !== undefined;
  }

  /** The mechanisms the client must use now: none once logged in or when no login is needed. */
  mechanisms(): string[] {
    return this.authenticated ? [] : [SCRAM_MECHANISM];
  }

  /** Throws AUTH_REQUIRED for `method` until the connection has logged in. */
  check(method: string): void {
    if (this.authenticated || (AUTH_METHODS as readonly string[]).includes(method)) return;
    throw new FerryError('AUTH_REQUIRED', 'authentication required');
  }

  /** auth.start: takes the client-first-message, returns the server-first-message. */
  start(mechanism: string, message: string): Promise<string> {
    return this.#serialize(async () => {
      this.#checkCanStart();
      this.#exchange = undefined;
      if (mechanism !== SCRAM_MECHANISM) {
        throw await this.#failed(
          undefined,
          `unsupported mechanism '${mechanism}'`,
          new FerryError(
            'AUTH_FAILED',
            `authentication failed: unsupported mechanism '${mechanism}' (ferryd offers ${SCRAM_MECHANISM})`,
          ),
        );
      }
      let first;
      try {
        first = parseClientFirst(message);
      } catch (err) {
        throw await this.#failed(undefined, messageOf(err), err);
      }
      const verifier = await this.#verifierOf(first.user);
      const scram = new ScramServerExchange(first, verifier ?? decoyVerifier(first.user));
      this.#exchange = { user: first.user, scram };
      return scram.serverFirst;
    });
  }

  /** auth.step: takes the client-final-message; on success returns the server-final-message. */
  step(message: string): Promise<{ message: string; user: string }> {
    return this.#serialize(async () => {
      this.#checkCanStart();
      const exchange = this.#exchange;
      this.#exchange = undefined;
      if (exchange === undefined)
        throw new FerryError(
          'OPERATION_INVALID',
          'No authentication in progress on this connection: call auth.start first',
        );
      let final: string | undefined;
      try {
        final = exchange.scram.finish(message);
      } catch (err) {
        throw await this.#failed(exchange.user, messageOf(err), err);
      }
      if (final === undefined) {
        throw await this.#failed(
          exchange.user,
          'invalid user name or password',
          new FerryError('AUTH_FAILED', INVALID_LOGIN),
        );
      }
      this.#user = exchange.user;
      this.#options.log.info({ peer: this.#peer, user: exchange.user }, 'client authenticated');
      return { message: final, user: exchange.user };
    });
  }

  #checkCanStart(): void {
    if (!this.#required)
      throw new FerryError(
        'OPERATION_INVALID',
        'This connection needs no authentication (see auth.list)',
      );
    if (this.#user !== undefined)
      throw new FerryError('OPERATION_INVALID', `Already authenticated as '${this.#user}'`);
  }

  /** The user's verifier; undefined (a decoy is used) for an unknown user or an unusable file. */
  async #verifierOf(user: string): Promise<ScramVerifier | undefined> {
    try {
      return (await readAccounts(this.#options.accountsFile)).get(user);
    } catch (err) {
      // Logged for the administrator; the client sees only a failed login, as for a bad password.
      this.#options.log.error(
        { peer: this.#peer, user, err: messageOf(err) },
        'cannot check logins: the accounts file is unusable',
      );
      return undefined;
    }
  }

  /** Logs a failed attempt, waits the failure delay, and returns the error to throw. */
  async #failed(user: string | undefined, reason: string, err: unknown): Promise<FerryError> {
    this.#options.log.warn({ peer: this.#peer, user, reason }, 'authentication failed');
    const delay = (this.#options.failureDelayMs ?? defaultFailureDelay)();
    await new Promise((resolve) => setTimeout(resolve, delay));
    return err instanceof FerryError && err.code === 'AUTH_FAILED'
      ? err
      : new FerryError('AUTH_FAILED', INVALID_LOGIN, { cause: err });
  }

  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
