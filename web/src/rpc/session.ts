/**
 * JSON-RPC 2.0 over one message channel, without the channel: ids and pending calls,
 * notifications to listeners, keepalive answers. The WebSocket around it is socket.ts; this
 * part is DOM-free so node:test checks it.
 * @module
 */
import type { MethodName, NotificationName, NotificationParams, Params, Result } from './types.js';

/** An error ferryd answered with: its message is the FerryError's, meant for people. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    message: string,
    /** The stable Ferry error code (data.name), e.g. NO_DOMAIN; undefined when absent. */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

type Listener = (params: unknown) => void;

/** One conversation with ferryd; `send` writes a frame, {@link receive} takes one. */
export class RpcSession {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(private readonly send: (frame: string) => void) {}

  /** Calls `method`; resolves with its result or rejects with an {@link RpcError}. */
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const id = this.#nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      } catch (err) {
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Calls `listener` with each `name` notification until the returned function is called. */
  on<N extends NotificationName>(
    name: N,
    listener: (params: NotificationParams<N>) => void,
  ): () => void {
    const set = this.#listeners.get(name) ?? new Set<Listener>();
    this.#listeners.set(name, set);
    const l = listener as Listener;
    set.add(l);
    return () => set.delete(l);
  }

  /** Handles one incoming frame (text); a frame that is not JSON-RPC is ignored. */
  receive(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    const f = frame as Record<string, unknown>;
    if (typeof f['method'] === 'string') {
      if (f['method'] === 'keepalive.ping') {
        this.send(JSON.stringify({ jsonrpc: '2.0', method: 'keepalive.pong' }));
        return;
      }
      for (const l of this.#listeners.get(f['method']) ?? []) l(f['params']);
      return;
    }
    if (typeof f['id'] !== 'number') return;
    const pending = this.#pending.get(f['id']);
    if (pending === undefined) return;
    this.#pending.delete(f['id']);
    if ('error' in f) pending.reject(errorFrom(f['error']));
    else pending.resolve(f['result']);
  }

  /** The channel is gone: every pending call fails with `reason`. */
  fail(reason: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(reason);
  }

  /** Calls still waiting for their answer. */
  get pendingCount(): number {
    return this.#pending.size;
  }
}

function errorFrom(value: unknown): RpcError {
  if (typeof value !== 'object' || value === null) return new RpcError('Unknown error', undefined);
  const { message, data } = value as { message?: unknown; data?: unknown };
  const name =
    typeof data === 'object' && data !== null ? (data as { name?: unknown }).name : undefined;
  return new RpcError(
    typeof message === 'string' && message !== '' ? message : 'Unknown error',
    typeof name === 'string' ? name : undefined,
  );
}

/** The delay before reconnect attempt `attempt` (0-based): 0.5 s doubling to 15 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(15_000, 500 * 2 ** Math.max(0, attempt));
}

/** The message for any thrown value, as the page shows it. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
