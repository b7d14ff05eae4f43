/**
 * A QMP client over a unix socket: handshake, id-correlated commands, events, and
 * disconnect detection. Modelled on QEMU's python qemu.qmp and libvirt's qemu_monitor.c.
 * @module
 */

import type * as net from 'node:net';
import { FerryError, messageOf } from '../common/errors.js';
import {
  QmpCommandError,
  QmpDisconnectedError,
  QmpProtocolError,
  QmpTimeoutError,
} from './errors.js';
import { abortReason, openSocket } from './socket.js';
import { LineSplitter, parseLine, type QmpEvent, type QmpGreeting } from './wire.js';

/** Per-call limits; an aborted signal rejects with `signal.reason`. */
export interface QmpCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Options of {@link QmpClient.execute}. */
export interface QmpExecuteOptions extends QmpCallOptions {
  /**
   * Run out of band (`exec-oob`) when the session negotiated it: QEMU runs the command in its
   * monitor thread at once, even while its main loop is blocked (a vCPU waiting for a
   * post-copy page it holds the big lock for). Only for commands QEMU allows out of band
   * (migrate-pause, migrate-recover); in band when the session has no OOB.
   */
  oob?: boolean;
}

/** Options of {@link QmpClient.waitForEvent}. */
export interface QmpWaitOptions extends QmpCallOptions {
  /** Only events for which this returns true resolve the wait; a throw rejects it. */
  predicate?: (ev: QmpEvent) => boolean;
}

/** Options of {@link QmpClient.connect}; `timeoutMs` (default 10 s) covers the whole handshake. */
export interface QmpConnectOptions extends QmpCallOptions {
  /** Keep retrying while the socket is missing or refuses (QEMU was just spawned). */
  waitForSocket?: boolean;
  /** Longest accepted line in bytes; a longer one is a protocol error. Default 64 MiB. */
  maxLineBytes?: number;
  /** Default `execute` timeout. None by default, like libvirt: EOF already ends every wait. */
  commandTimeoutMs?: number;
  /** Negotiate out-of-band execution when QEMU offers it (see QmpExecuteOptions.oob). */
  oob?: boolean;
  /** Told about what we deliberately ignore: late replies, unknown messages, listener throws. */
  onDebug?: (message: string, detail?: unknown) => void;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** A connected, negotiated QMP session; create one with {@link QmpClient.connect}. */
export class QmpClient {
  /** Resolves once the socket has closed for any reason (e.g. QEMU exited); never rejects. */
  readonly closed: Promise<void>;

  readonly #socket: net.Socket;
  readonly #path: string;
  readonly #splitter: LineSplitter;
  readonly #commandTimeoutMs: number | undefined;
  readonly #wantOob: boolean;
  #oob = false;
  readonly #onDebug: ((message: string, detail?: unknown) => void) | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #listeners = new Set<(ev: QmpEvent) => void>();
  /** Everything waiting on this connection; each hook rejects its waiter. */
  readonly #closeHooks = new Set<(err: Error) => void>();
  #greeting: QmpGreeting | undefined;
  #onGreeting: (() => void) | undefined;
  #closeReason: FerryError | undefined;
  #nextId = 0;

  private constructor(socket: net.Socket, path: string, opts: QmpConnectOptions) {
    this.#socket = socket;
    this.#path = path;
    this.#splitter = new LineSplitter(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.#commandTimeoutMs = opts.commandTimeoutMs;
    this.#wantOob = opts.oob === true;
    this.#onDebug = opts.onDebug;
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#shutdown(
          new QmpDisconnectedError(`QMP connection to ${path} was closed by the peer`),
        );
        resolve();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#splitter.push(chunk, (line) => {
          this.#handleLine(line);
        });
      } catch (err) {
        this.#shutdown(err instanceof FerryError ? err : new QmpProtocolError(messageOf(err)));
      }
    });
    socket.on('error', (err: Error) => {
      const message = `QMP connection to ${path} failed: ${err.message}`;
      this.#shutdown(new QmpDisconnectedError(message, { cause: err }));
    });
  }

  /**
   * Connects to a QMP unix socket, reads the greeting and negotiates capabilities.
   * Rejects with QmpTimeoutError when the handshake outlasts `timeoutMs`, and with
   * QmpConnectError when the socket is unusable and `waitForSocket` is not set.
   */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const { signal } = opts;
    signal?.throwIfAborted();
    // One signal covers every handshake step, so no step has to track the deadline.
    const ac = new AbortController();
    let lastError: unknown;
    const timer = setTimeout(() => {
      const cause = lastError === undefined ? {} : { cause: lastError };
      ac.abort(new QmpTimeoutError(`connecting to QMP socket ${path}`, timeoutMs, cause));
    }, timeoutMs);
    const onAbort = (): void => {
      ac.abort(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const socket = await openSocket(path, opts.waitForSocket === true, ac.signal, (err) => {
        lastError = err;
      });
      const client = new QmpClient(socket, path, opts);
      try {
        await client.#handshake(ac.signal);
      } catch (err) {
        client.close();
        throw err;
      }
      return client;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The greeting QEMU sent; always present once `connect` has resolved. */
  get greeting(): QmpGreeting {
    if (this.#greeting === undefined) {
      throw new FerryError('INTERNAL_ERROR', 'QMP greeting has not been received yet');
    }
    return this.#greeting;
  }

  /** True when commands may run out of band (negotiated with QEMU at connect). */
  get oobEnabled(): boolean {
    return this.#oob;
  }

  /** True once the connection is unusable; `closed` may resolve a moment later. */
  get isClosed(): boolean {
    return this.#closeReason !== undefined;
  }

  /**
   * Runs a command and resolves with its `return` value, cast to `T` without validation.
   * A timeout or abort does not cancel the command in QEMU; its late reply is dropped.
   */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts: QmpExecuteOptions = {},
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.#commandTimeoutMs;
    const what = `waiting for QMP command '${command}'`;
    const verb = opts.oob === true && this.#oob ? 'exec-oob' : 'execute';
    return this.#wait<T>(what, timeoutMs, opts.signal, (resolve, reject) => {
      const id = `ferry-${++this.#nextId}`;
      const msg =
        args === undefined ? { [verb]: command, id } : { [verb]: command, arguments: args, id };
      let line: string;
      try {
        line = `${JSON.stringify(msg)}\n`;
      } catch (err) {
        const message = `Cannot encode arguments of QMP command '${command}': ${messageOf(err)}`;
        throw new FerryError('INVALID_ARG', message, { cause: err });
      }
      this.#pending.set(id, {
        command,
        resolve: (v) => {
          resolve(v as T);
        },
        reject,
      });
      this.#socket.write(line);
      return () => this.#pending.delete(id);
    });
  }

  /** Calls `listener` synchronously for every event in arrival order; returns an unsubscribe. */
  onEvent(listener: (ev: QmpEvent) => void): () => void {
    // Wrap so that subscribing the same function twice yields two independent subscriptions.
    const own = (ev: QmpEvent): void => {
      listener(ev);
    };
    this.#listeners.add(own);
    return () => this.#listeners.delete(own);
  }

  /**
   * Resolves with the next event named `name` that satisfies `predicate`; no timeout by default.
   * Call it before sending the command that triggers the event, or the event may be missed.
   */
  waitForEvent(name: string, opts: QmpWaitOptions = {}): Promise<QmpEvent> {
    const { predicate } = opts;
    const what = `waiting for QMP event ${name}`;
    return this.#wait<QmpEvent>(what, opts.timeoutMs, opts.signal, (resolve, reject) =>
      this.onEvent((ev) => {
        if (ev.event !== name) return;
        try {
          if (predicate === undefined || predicate(ev)) resolve(ev);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
  }

  /** Closes the connection; in-flight commands and waits reject with QmpDisconnectedError. */
  close(): void {
    this.#shutdown(new QmpDisconnectedError(`QMP connection to ${this.#path} was closed by us`));
  }

  async #handshake(signal: AbortSignal): Promise<void> {
    await this.#wait<undefined>('waiting for the QMP greeting', undefined, signal, (resolve) => {
      this.#onGreeting = () => {
        resolve(undefined);
      };
      return () => (this.#onGreeting = undefined);
    });
    const oob = this.#wantOob && this.greeting.capabilities.includes('oob');
    await this.execute('qmp_capabilities', oob ? { enable: ['oob'] } : undefined, { signal });
    this.#oob = oob;
  }

  /**
   * The one place that settles waiters: `start` registers the waiter and returns its undo;
   * timeout, abort and disconnect all run that undo, so nothing leaks whichever wins.
   * `start` may fail synchronously only by throwing, never by calling its callbacks.
   */
  #wait<T>(
    what: string,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
    start: (resolve: (v: T) => void, reject: (e: Error) => void) => () => unknown,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closeReason !== undefined) {
        reject(this.#disconnectedError());
        return;
      }
      if (signal?.aborted === true) {
        reject(abortReason(signal));
        return;
      }
      let settled = false;
      let undo: (() => unknown) | undefined = undefined;
      const finish = (err: Error | undefined, value?: T): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#closeHooks.delete(finish);
        undo?.();
        if (err === undefined) resolve(value as T);
        else reject(err);
      };
      const onAbort = (): void => {
        finish(abortReason(signal));
      };
      const timer =
        timeoutMs === undefined || !Number.isFinite(timeoutMs)
          ? undefined
          : setTimeout(() => {
              finish(new QmpTimeoutError(what, timeoutMs));
            }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#closeHooks.add(finish);
      try {
        undo = start((v) => {
          finish(undefined, v);
        }, finish);
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  #handleLine(line: string): void {
    if (this.#closeReason !== undefined) return; // rest of a chunk after a protocol error
    let msg;
    try {
      msg = parseLine(line);
    } catch (err) {
      this.#shutdown(err instanceof FerryError ? err : new QmpProtocolError(messageOf(err)));
      return;
    }
    if (msg === undefined) return;
    if (this.#greeting === undefined) {
      // QMP guarantees the greeting comes first; anything else is not a QMP server.
      if (msg.kind !== 'greeting') {
        this.#shutdown(new QmpProtocolError('QMP peer did not start with a greeting'));
        return;
      }
      this.#greeting = msg.greeting;
      this.#onGreeting?.();
      return;
    }
    switch (msg.kind) {
      case 'event':
        for (const listener of [...this.#listeners]) {
          try {
            listener(msg.event);
          } catch (err) {
            // A buggy listener must not break the reader every other caller depends on.
            this.#onDebug?.(`QMP event listener threw on ${msg.event.event}`, err);
          }
        }
        return;
      case 'return':
      case 'error': {
        const pending = typeof msg.id === 'string' ? this.#pending.get(msg.id) : undefined;
        if (pending === undefined) {
          // A reply to a command that timed out or was aborted, or one we never sent.
          this.#onDebug?.('QMP reply for no pending command dropped', msg);
        } else if (msg.kind === 'return') {
          pending.resolve(msg.value);
        } else {
          pending.reject(new QmpCommandError(pending.command, msg.class, msg.desc));
        }
        return;
      }
      default:
        // Unknown kinds (and repeated greetings) are ignored for forward compatibility.
        this.#onDebug?.('Unexpected QMP message ignored', msg);
    }
  }

  #disconnectedError(): QmpDisconnectedError {
    const message = `QMP connection to ${this.#path} is closed`;
    return new QmpDisconnectedError(message, { cause: this.#closeReason });
  }

  /** Idempotent: the first reason wins and is what all in-flight work rejects with. */
  #shutdown(reason: FerryError): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    for (const hook of [...this.#closeHooks]) hook(reason);
    this.#socket.destroy();
  }
}
