/**
 * The JSON-RPC client: typed calls against a method table, results validated with the
 * table's schemas, wire errors rebuilt into FerryErrors with their original code.
 * @module
 */
import type { z } from 'zod';
import { FerryError } from '../common/errors.js';
import type { JsonObject } from './framing.js';
import { handleKeepalive, startKeepalive } from './keepalive.js';
import type { KeepaliveOptions } from './keepalive.js';
import {
  formatZodError,
  fromErrorObject,
  makeError,
  makeNotification,
  makeRequest,
  parseMessage,
} from './protocol.js';
import type { RpcId } from './protocol.js';
import { silentLogger } from './spec.js';
import type { MethodSpec, MethodTable, ParamsIn, ResultOut, RpcLogger } from './spec.js';
import type { Transport } from './transport/index.js';

export interface CallOptions {
  /** Reject with OPERATION_TIMEOUT if no reply arrives in time (0 = wait forever). */
  timeoutMs?: number;
  /** Reject with OPERATION_FAILED when aborted; the server is not told (it finishes the call). */
  signal?: AbortSignal;
}

/** Anything that can make typed calls on table M (RpcClient, or a fake in tests). */
export interface TypedClient<M extends MethodTable> {
  call<K extends keyof M & string>(
    method: K,
    params: ParamsIn<M, K>,
    options?: CallOptions,
  ): Promise<ResultOut<M, K>>;
}

export interface RpcClientOptions {
  logger?: RpcLogger;
  /** Default for {@link CallOptions.timeoutMs} (default 0: no timeout). */
  timeoutMs?: number;
  /** Detect a dead server with pings (default off). */
  keepalive?: KeepaliveOptions;
}

interface Pending {
  method: string;
  spec: MethodSpec | undefined;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  dispose: () => void;
}

/** A client for method table M over one transport (which it takes ownership of). */
export class RpcClient<M extends MethodTable> implements TypedClient<M> {
  readonly #transport: Transport;
  readonly #methods: ReadonlyMap<string, MethodSpec> | undefined;
  readonly #log: RpcLogger;
  readonly #timeoutMs: number;
  readonly #pending = new Map<RpcId, Pending>();
  readonly #listeners = new Map<string, Set<(params: unknown) => void>>();
  readonly #anyListeners = new Set<(method: string, params: unknown) => void>();
  #nextId = 1;
  #closeError: FerryError | undefined;
  // A fatal error the server reported (id null) just before hanging up: the best
  // explanation to give pending calls when the connection then closes.
  #peerError: FerryError | undefined;

  /**
   * Precondition: `methods` is the same table the server serves (or a subset of it). Without
   * it, results are passed on unchecked (typed by M only): the CLI does so to keep zod, and
   * its start-up cost, out of every `ferry` run, trusting the ferryd of its own version.
   */
  constructor(transport: Transport, methods: M | undefined, options: RpcClientOptions = {}) {
    this.#transport = transport;
    this.#methods = methods === undefined ? undefined : new Map(Object.entries(methods));
    this.#log = options.logger ?? silentLogger;
    this.#timeoutMs = options.timeoutMs ?? 0;
    transport.onMessage((frame) => {
      this.#onFrame(frame);
    });
    transport.onClose((reason) => {
      this.#onClose(reason);
    });
    if (options.keepalive) startKeepalive(transport, options.keepalive);
  }

  /** True once the connection is closed; calls then reject at once. */
  get closed(): boolean {
    return this.#transport.closed;
  }

  /** Calls a method and resolves with its validated result; rejects with a FerryError. */
  call<K extends keyof M & string>(
    method: K,
    params: ParamsIn<M, K>,
    options: CallOptions = {},
  ): Promise<ResultOut<M, K>> {
    const spec = this.#methods?.get(method);
    if (this.#methods !== undefined && spec === undefined)
      return Promise.reject(new FerryError('METHOD_NOT_FOUND', `Unknown method '${method}'`));
    return this.#request(method, params, spec, options) as Promise<ResultOut<M, K>>;
  }

  /**
   * Forwards a call as it is, for a relay (the web console's to a remote ferryd): any method
   * name, params unchecked, the result passed on unchecked (the server validated it), errors
   * rebuilt as FerryErrors with their code and data.
   */
  callRaw(method: string, params: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#request(method, params, undefined, options);
  }

  /** Subscribes to every server notification (a relay forwards them); returns an unsubscribe. */
  onAnyNotification(cb: (method: string, params: unknown) => void): () => void {
    this.#anyListeners.add(cb);
    return () => this.#anyListeners.delete(cb);
  }

  #request(
    method: string,
    params: unknown,
    spec: MethodSpec | undefined,
    options: CallOptions,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#transport.closed) {
        reject(this.#closeError ?? closedError());
        return;
      }
      const { signal } = options;
      if (signal?.aborted === true) {
        reject(abortedError(method, signal.reason));
        return;
      }
      const id = this.#nextId++;
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        dispose();
        reject(abortedError(method, signal?.reason));
      };
      const dispose = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
      };
      try {
        this.#transport.send(makeRequest(id, method, params));
      } catch (err) {
        // send() throws a FrameError when the params are too big or not JSON.
        reject(err instanceof Error ? err : new FerryError('INTERNAL_ERROR', String(err)));
        return;
      }
      this.#pending.set(id, {
        method,
        spec,
        resolve,
        reject,
        dispose,
      });
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          dispose();
          reject(
            new FerryError(
              'OPERATION_TIMEOUT',
              `Timed out after ${timeoutMs} ms waiting for a reply to '${method}'`,
            ),
          );
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Sends a notification (no reply, no delivery guarantee). */
  notify(method: string, params?: unknown): void {
    this.#transport.send(makeNotification(method, params));
  }

  /**
   * Subscribes to server notifications named `method`; with `schema`, params are validated
   * (invalid ones are logged and dropped). Returns an unsubscribe function.
   */
  onNotification<T extends z.ZodType = z.ZodUnknown>(
    method: string,
    cb: (params: z.output<T>) => void,
    schema?: T,
  ): () => void {
    const listener = (raw: unknown): void => {
      if (schema === undefined) {
        cb(raw as z.output<T>);
        return;
      }
      const parsed = schema.safeParse(raw);
      if (parsed.success) cb(parsed.data);
      else this.#log.warn({ method, error: formatZodError(parsed.error) }, 'Invalid notification');
    };
    let set = this.#listeners.get(method);
    if (set === undefined) this.#listeners.set(method, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Runs `cb` with the reason when the connection closes. */
  onClose(cb: (reason: FerryError) => void): () => void {
    return this.#transport.onClose(() => {
      cb(this.#closeError ?? closedError());
    });
  }

  /** Closes the connection; pending calls reject with CONNECT_FAILED. */
  close(): void {
    this.#transport.close();
  }

  #onFrame(frame: JsonObject): void {
    const parsed = parseMessage(frame);
    if (!parsed.ok) {
      this.#log.warn({ err: parsed.error, peer: this.#transport.peer }, 'Invalid message');
      return;
    }
    const msg = parsed.message;
    if (handleKeepalive(this.#transport, msg)) return;
    switch (msg.kind) {
      case 'notification':
        for (const cb of this.#listeners.get(msg.method) ?? []) {
          try {
            cb(msg.params);
          } catch (err) {
            this.#log.error({ err, method: msg.method }, 'Notification listener failed');
          }
        }
        for (const cb of this.#anyListeners) {
          try {
            cb(msg.method, msg.params);
          } catch (err) {
            this.#log.error({ err, method: msg.method }, 'Notification listener failed');
          }
        }
        return;
      case 'request':
        // Servers do not call clients in this protocol.
        this.#transport.send(
          makeError(msg.id, new FerryError('METHOD_NOT_FOUND', `Unknown method '${msg.method}'`)),
        );
        return;
      case 'error':
        if (msg.id === null) {
          this.#peerError = fromErrorObject(msg.error);
          this.#log.warn({ err: this.#peerError }, 'Server reported an error');
          return;
        }
        this.#settle(msg.id, (p) => {
          p.reject(fromErrorObject(msg.error));
        });
        return;
      case 'result':
        this.#settle(msg.id, (p) => {
          if (p.spec === undefined) {
            p.resolve(msg.result);
            return;
          }
          let checked = p.spec.result.safeParse(msg.result);
          // The server sends `null` for an undefined result (z.void() methods).
          if (!checked.success && msg.result === null) checked = p.spec.result.safeParse(undefined);
          if (checked.success) p.resolve(checked.data);
          else {
            const why = formatZodError(checked.error);
            p.reject(new FerryError('INTERNAL_ERROR', `Malformed reply to '${p.method}': ${why}`));
          }
        });
        return;
    }
  }

  #settle(id: RpcId, fn: (p: Pending) => void): void {
    const pending = this.#pending.get(id);
    // A reply after a timeout or abort has nobody waiting for it.
    if (pending === undefined) {
      this.#log.debug({ id }, 'Reply to an unknown or abandoned call');
      return;
    }
    pending.dispose();
    fn(pending);
  }

  #onClose(reason: FerryError | undefined): void {
    const error = reason ?? this.#peerError ?? closedError();
    this.#closeError = error;
    for (const pending of [...this.#pending.values()]) {
      pending.dispose();
      pending.reject(error);
    }
  }
}

function closedError(): FerryError {
  return new FerryError('CONNECT_FAILED', 'Connection to ferryd closed');
}

function abortedError(method: string, reason: unknown): FerryError {
  return new FerryError('OPERATION_FAILED', `Call to '${method}' was aborted`, { cause: reason });
}
