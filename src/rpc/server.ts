/**
 * The JSON-RPC server: dispatches requests from any number of transports to typed
 * handlers, validating params and results against the method table's schemas.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { JsonObject } from './framing.js';
import { FrameError } from './framing.js';
import { handleKeepalive, startKeepalive } from './keepalive.js';
import type { KeepaliveOptions } from './keepalive.js';
import {
  formatZodError,
  makeError,
  makeNotification,
  makeResult,
  parseMessage,
} from './protocol.js';
import type { Envelope, IncomingMessage, RpcId } from './protocol.js';
import { silentLogger } from './spec.js';
import type { MethodSpec, MethodTable, ParamsOut, ResultIn, RpcLogger } from './spec.js';
import type { CloseListener, LocalEndpoint, Transport } from './transport/index.js';

/** One client connection as seen by handlers; `state` is per-connection data of type S. */
export interface Connection<S> {
  readonly id: number;
  readonly peer: string;
  state: S;
  readonly closed: boolean;
  /** Aborted when the connection closes, so long-running handlers can give up. */
  readonly signal: AbortSignal;
  /** Sends a notification to this client (dropped if it has disconnected). */
  notify(method: string, params?: unknown): void;
  /** Runs `cb` when the connection closes (e.g. to drop its event subscriptions). */
  onClose(cb: CloseListener): () => void;
  close(reason?: FerryError): void;
  /**
   * Pings this client when it goes quiet and closes the connection (with a
   * KeepaliveTimeoutError) when it stops answering. For a connection whose silent death
   * matters, e.g. a migration source's; a no-op when keepalive already runs on it.
   */
  startKeepalive(options: KeepaliveOptions): void;
}

/** What a handler gets besides its params. */
export interface CallContext<S> {
  readonly method: string;
  readonly connection: Connection<S>;
  readonly signal: AbortSignal;
  notify(method: string, params?: unknown): void;
  onClose(cb: CloseListener): () => void;
}

/** The handler of method K: typed params in, the result schema's input type out. */
export type Handler<M extends MethodTable, K extends keyof M, S> = (
  params: ParamsOut<M, K>,
  ctx: CallContext<S>,
) => Promise<ResultIn<M, K>> | ResultIn<M, K>;

/** Handlers for every method of M (for {@link RpcServer.implementAll}). */
export type Handlers<M extends MethodTable, S> = { [K in keyof M & string]: Handler<M, K, S> };

export interface RpcServerOptions<S> {
  logger?: RpcLogger;
  /** Requests one connection may have running at once (default 64); further input waits. */
  maxInFlight?: number;
  /** Enables keepalive on every connection (default off; useful over tcp, not unix). */
  keepalive?: KeepaliveOptions;
  /** Creates a connection's `state`; required unless S is undefined. */
  createState?: (info: ConnectionInfo) => S;
  /**
   * Runs before every call and throws (a FerryError) to refuse it, e.g. "authentication
   * required" until the connection has logged in. Checked before the method is even looked
   * up, so a client that may not call learns nothing about the API.
   */
  authorize?: (method: string, connection: Connection<S>) => void;
}

/** What is known about a connection when its state is created. */
export interface ConnectionInfo {
  readonly id: number;
  readonly peer: string;
  /** The endpoint the client connected to (see {@link Transport.local}). */
  readonly local: LocalEndpoint | undefined;
  /** Who the transport authenticated its peer as (see {@link Transport.user}), if it did. */
  readonly user: string | undefined;
}

// Stored handlers have their params erased to `never` so every Handler<M, K, S> fits.
type AnyHandler<S> = (params: never, ctx: CallContext<S>) => unknown;
type Call = Extract<IncomingMessage, { kind: 'request' | 'notification' }>;

class ServerConnection<S> implements Connection<S> {
  inFlight = 0;
  readonly queue: Call[] = [];
  readonly #abort = new AbortController();
  #keepalive = false;

  constructor(
    readonly id: number,
    readonly transport: Transport,
    public state: S,
  ) {}

  get peer(): string {
    return this.transport.peer;
  }
  get closed(): boolean {
    return this.transport.closed;
  }
  get signal(): AbortSignal {
    return this.#abort.signal;
  }
  notify(method: string, params?: unknown): void {
    this.transport.send(makeNotification(method, params));
  }
  onClose(cb: CloseListener): () => void {
    return this.transport.onClose(cb);
  }
  close(reason?: FerryError): void {
    this.transport.close(reason);
  }
  startKeepalive(options: KeepaliveOptions): void {
    if (this.#keepalive || this.closed) return;
    this.#keepalive = true;
    startKeepalive(this.transport, options);
  }
  abort(reason: FerryError | undefined): void {
    this.#abort.abort(reason ?? new FerryError('CONNECT_FAILED', 'Client disconnected'));
  }
}

/**
 * Serves a method table M to clients; S is the per-connection state type.
 * Params absent from a request are validated as `{}` (Ferry methods take named params).
 */
export class RpcServer<M extends MethodTable, S = undefined> {
  readonly #methods: ReadonlyMap<string, MethodSpec>;
  readonly #handlers = new Map<string, AnyHandler<S>>();
  readonly #connections = new Set<ServerConnection<S>>();
  readonly #log: RpcLogger;
  readonly #maxInFlight: number;
  readonly #keepalive: KeepaliveOptions | undefined;
  readonly #createState: ((info: ConnectionInfo) => S) | undefined;
  readonly #authorize: ((method: string, connection: Connection<S>) => void) | undefined;
  #nextId = 1;
  #closed = false;

  /** Precondition: `methods` maps wire names to {params, result} zod schemas. */
  constructor(methods: M, options: RpcServerOptions<S> = {}) {
    this.#methods = new Map(Object.entries(methods));
    this.#log = options.logger ?? silentLogger;
    this.#maxInFlight = options.maxInFlight ?? 64;
    if (!Number.isSafeInteger(this.#maxInFlight) || this.#maxInFlight < 1) {
      throw new FerryError('INVALID_ARG', `Invalid maxInFlight: ${this.#maxInFlight}`);
    }
    this.#keepalive = options.keepalive;
    this.#createState = options.createState;
    this.#authorize = options.authorize;
  }

  /** Registers the handler of one method; unimplemented methods answer NO_SUPPORT. */
  implement<K extends keyof M & string>(name: K, handler: Handler<M, K, S>): this {
    this.#register(name, handler);
    return this;
  }

  /** Registers handlers for all methods at once; the type checker enforces completeness. */
  implementAll(handlers: Handlers<M, S>): this {
    // Object.entries loses the per-key handler types; each is re-checked by name in implement().
    for (const [name, handler] of Object.entries<AnyHandler<S>>(handlers)) {
      this.#register(name, handler);
    }
    return this;
  }

  #register(name: string, handler: AnyHandler<S>): void {
    // A handler for a name missing from the table could never be called: a typo.
    if (!this.#methods.has(name)) {
      throw new FerryError('INVALID_ARG', `Cannot implement unknown method '${name}'`);
    }
    this.#handlers.set(name, handler);
  }

  /** Open connections (e.g. to count clients or pick event subscribers). */
  get connections(): ReadonlySet<Connection<S>> {
    return this.#connections;
  }

  /** Starts serving one transport (call from a listener's onConnection). */
  handle(transport: Transport): Connection<S> {
    const id = this.#nextId++;
    const { peer } = transport;
    let state: S;
    try {
      state = this.#createState
        ? this.#createState({ id, peer, local: transport.local, user: transport.user })
        : (undefined as S);
    } catch (err) {
      this.#log.error({ err, conn: id, peer }, 'Cannot set up connection state');
      transport.close(new FerryError('INTERNAL_ERROR', 'Internal error', { cause: err }));
      return new ServerConnection(id, transport, undefined as S);
    }
    const conn = new ServerConnection(id, transport, state);
    this.#connections.add(conn);
    if (this.#keepalive) conn.startKeepalive(this.#keepalive);
    transport.onMessage((frame) => {
      this.#onFrame(conn, frame);
    });
    transport.onClose((reason) => {
      this.#connections.delete(conn);
      conn.queue.length = 0;
      conn.abort(reason);
      if (reason) this.#log.warn({ conn: id, peer, err: reason }, 'Connection closed on error');
      else this.#log.debug({ conn: id, peer }, 'Connection closed');
    });
    this.#log.debug({ conn: id, peer }, 'Connection opened');
    if (this.#closed) conn.close();
    return conn;
  }

  /**
   * Sends a notification to every open connection that passes `filter`; returns how many.
   * Throws a FrameError (before sending anything) if `params` cannot be encoded.
   */
  broadcast(method: string, params?: unknown, filter?: (conn: Connection<S>) => boolean): number {
    let sent = 0;
    for (const conn of this.#connections) {
      if (conn.closed || (filter !== undefined && !filter(conn))) continue;
      conn.notify(method, params);
      sent++;
    }
    return sent;
  }

  /** Closes all connections and refuses new ones (the listener is closed separately). */
  close(): void {
    this.#closed = true;
    for (const conn of this.#connections) conn.close();
  }

  #onFrame(conn: ServerConnection<S>, frame: JsonObject): void {
    const parsed = parseMessage(frame);
    if (!parsed.ok) {
      this.#send(conn, makeError(parsed.id, parsed.error), parsed.id, '');
      return;
    }
    const msg = parsed.message;
    if (handleKeepalive(conn.transport, msg)) return;
    if (msg.kind === 'result' || msg.kind === 'error') {
      this.#log.debug({ conn: conn.id, msg }, 'Ignoring a response sent to the server');
      return;
    }
    if (conn.inFlight >= this.#maxInFlight) {
      // Backpressure instead of an error: stop reading this client until a call finishes,
      // so its memory use is bounded by the limit plus one read chunk.
      conn.queue.push(msg);
      conn.transport.pause();
      return;
    }
    this.#start(conn, msg);
  }

  #start(conn: ServerConnection<S>, call: Call): void {
    conn.inFlight++;
    void this.#run(conn, call).finally(() => {
      conn.inFlight--;
      let next: Call | undefined;
      while (conn.inFlight < this.#maxInFlight && (next = conn.queue.shift()) !== undefined) {
        this.#start(conn, next);
      }
      if (conn.queue.length === 0) conn.transport.resume();
    });
  }

  /** Runs one call to completion and replies; never rejects. */
  async #run(conn: ServerConnection<S>, call: Call): Promise<void> {
    let reply: Envelope;
    try {
      const result = await this.#invoke(conn, call);
      if (call.kind === 'notification') return;
      reply = makeResult(call.id, result);
    } catch (err) {
      const error = this.#toFerryError(err, conn, call.method);
      if (call.kind === 'notification') {
        this.#log.debug({ conn: conn.id, err: error }, `Notification '${call.method}' failed`);
        return;
      }
      reply = makeError(call.id, error);
    }
    this.#send(conn, reply, call.id, call.method);
  }

  async #invoke(conn: ServerConnection<S>, call: Call): Promise<unknown> {
    const { method } = call;
    this.#authorize?.(method, conn);
    const spec = this.#methods.get(method);
    if (spec === undefined) throw new FerryError('METHOD_NOT_FOUND', `Unknown method '${method}'`);
    const handler = this.#handlers.get(method);
    if (handler === undefined) {
      throw new FerryError('NO_SUPPORT', `Method '${method}' is not implemented by this server`);
    }
    const params = await spec.params.safeParseAsync(call.params ?? {});
    if (!params.success) {
      const issues = params.error.issues.map((i) => ({
        path: i.path.join('.'),
        message: i.message,
      }));
      throw new FerryError(
        'INVALID_ARG',
        `Invalid params for '${method}': ${formatZodError(params.error)}`,
        { data: { issues } },
      );
    }
    const ctx: CallContext<S> = {
      method,
      connection: conn,
      signal: conn.signal,
      notify: (m, p) => {
        conn.notify(m, p);
      },
      onClose: (cb) => conn.onClose(cb),
    };
    const result = await handler(params.data as never, ctx);
    // Always validated: it catches handler bugs before clients see them, and parsing
    // strips fields not in the schema so internal data cannot leak onto the wire.
    const checked = await spec.result.safeParseAsync(result);
    if (!checked.success) {
      throw new Error(`Result does not match the schema: ${formatZodError(checked.error)}`);
    }
    return checked.data;
  }

  #toFerryError(err: unknown, conn: ServerConnection<S>, method: string): FerryError {
    if (err instanceof FerryError) return err;
    // Unexpected errors may carry internals (paths, stack); log them, send a generic reply.
    this.#log.error({ err, conn: conn.id, method }, `Unexpected error in '${method}'`);
    return new FerryError('INTERNAL_ERROR', 'Internal error');
  }

  #send(conn: ServerConnection<S>, reply: Envelope, id: RpcId | null, method: string): void {
    try {
      conn.transport.send(reply);
    } catch (err) {
      // The reply cannot be encoded (too big, or data that is not JSON); the client is
      // still owed an answer, and this small error reply always encodes.
      this.#log.error({ err, conn: conn.id, method }, `Cannot send the reply to '${method}'`);
      const tooBig = err instanceof FrameError && err.reason === 'oversize' && 'result' in reply;
      const error = tooBig
        ? new FerryError('OPERATION_FAILED', `Reply to '${method}' is too large: ${err.message}`)
        : new FerryError('INTERNAL_ERROR', 'Internal error');
      conn.transport.send(makeError(id, error));
    }
  }
}
