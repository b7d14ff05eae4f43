/**
 * One WebSocket per host at `/rpc?host=ID&csrf=TOKEN`, carrying the JSON-RPC session
 * (session.ts). It reconnects with backoff when lost; a refused upgrade whose cause is a
 * missing session sends the page to /login.
 * @module
 */
import { signal } from '@preact/signals';
import { errorMessage, reconnectDelayMs, RpcSession } from './session.js';
import type { MethodName, NotificationName, NotificationParams, Params, Result } from './types.js';

/** connecting: first attempt; open: usable; lost: was open or failed, retrying. */
export type LinkState = 'connecting' | 'open' | 'lost';

function meta(name: string): string {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

/** The session's CSRF token, injected by ferryd into index.html. */
export function csrfToken(): string {
  return meta('ferry-csrf');
}

/** The signed-in user, injected by ferryd into index.html. */
export function signedInUser(): string {
  return meta('ferry-user');
}

/**
 * A browser cannot read why an upgrade was refused, so ask the page's own origin whether the
 * session still holds: 401 means it does not (expired, signed out, ferryd restarted).
 */
async function sessionEnded(): Promise<boolean> {
  try {
    const res = await fetch('./', {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
      redirect: 'manual',
    });
    return res.status === 401;
  } catch {
    return false;
  }
}

export class HostConnection {
  readonly state = signal<LinkState>('connecting');
  /** Why the last attempt failed, for the "lost" banner. */
  readonly lastError = signal<string | undefined>(undefined);
  readonly #session = new RpcSession((frame) => {
    if (this.#ws?.readyState !== WebSocket.OPEN) throw new Error(this.#lostMessage());
    this.#ws.send(frame);
  });
  readonly #openListeners = new Set<() => void>();
  #waiters: { resolve(): void; reject(err: Error): void }[] = [];
  #ws: WebSocket | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    readonly hostId: string,
    /** The host's name for messages; read when needed (it may be learnt later). */
    readonly label: () => string,
  ) {
    this.#connect();
  }

  /** Calls `method` once the socket is open; fails at once when the host cannot be reached. */
  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    await this.#opened();
    return this.#session.call(method, params);
  }

  on<N extends NotificationName>(
    name: N,
    listener: (params: NotificationParams<N>) => void,
  ): () => void {
    return this.#session.on(name, listener);
  }

  /** Calls `listener` on every (re)open, and at once if open now. */
  onOpen(listener: () => void): () => void {
    this.#openListeners.add(listener);
    if (this.state.value === 'open') listener();
    return () => this.#openListeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.close();
    this.#session.fail(new Error(`Connection to ${this.label()} closed`));
  }

  #lostMessage(): string {
    return `Connection to ${this.label()} lost; reconnecting…`;
  }

  #opened(): Promise<void> {
    if (this.state.value === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #connect(): void {
    if (this.#closed) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = `host=${encodeURIComponent(this.hostId)}&csrf=${encodeURIComponent(csrfToken())}`;
    const ws = new WebSocket(`${scheme}://${location.host}/rpc?${query}`);
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.#attempt = 0;
      this.state.value = 'open';
      this.lastError.value = undefined;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.resolve();
      for (const l of [...this.#openListeners]) l();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data === 'string') this.#session.receive(ev.data);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      const reason = ev.reason !== '' ? ev.reason : undefined;
      const err = new Error(
        reason === undefined ? this.#lostMessage() : `${this.#lostMessage()} (${reason})`,
      );
      this.lastError.value = reason;
      this.#session.fail(err);
      // Calls waiting for a first connection fail now rather than hang behind the retries.
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(err);
      if (this.#closed) return;
      this.state.value = 'lost';
      void this.#retry(opened);
    };
  }

  async #retry(wasOpen: boolean): Promise<void> {
    // A refusal before opening may be a missing session: then only signing in helps.
    if (!wasOpen && (await sessionEnded())) {
      location.assign('/login');
      return;
    }
    const delay = reconnectDelayMs(this.#attempt++);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}

/** Any thrown value as the page shows it. */
export { errorMessage };
