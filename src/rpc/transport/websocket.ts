/**
 * A {@link Transport} over a WebSocket (the web console's connection to ferryd): one text
 * message carries one JSON-RPC frame, without the newline the byte streams use. Malformed input
 * (not JSON, not an object, a binary message) is answered with a JSON-RPC error (id null) and
 * the socket is closed, as StreamTransport does. A message over the frame limit is refused by
 * the WebSocket layer itself (close code 1009, "message too big") before it is buffered whole,
 * so there is no room left to send an error frame first.
 * @module
 */
import type { WebSocket, RawData } from 'ws';
import { FerryError } from '../../common/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameError, encodeFrame } from '../framing.js';
import type { JsonObject } from '../framing.js';
import { makeError } from '../protocol.js';
import type { CloseListener, LocalEndpoint, Transport } from './index.js';
import { TransportListeners } from './listeners.js';

/** WebSocket close codes (RFC 6455 §7.4.1) this transport uses. */
export const WS_CLOSE = {
  normal: 1000,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policy: 1008,
  tooBig: 1009,
  internalError: 1011,
  /** IANA's "Bad Gateway": the host a relayed socket leads to could not be reached or went away. */
  badGateway: 1014,
} as const;

export interface WebSocketTransportOptions {
  /** Largest frame accepted or sent, in bytes (default 16 MiB); give ws the same maxPayload. */
  maxFrameBytes?: number;
  /** Unsent output tolerated (ws.bufferedAmount) before giving up on the peer (default 4 × max). */
  maxWriteBufferBytes?: number;
  /** Peer description for logs and errors (default `websocket`). */
  peer?: string;
  /** This side's endpoint, if known. */
  local?: LocalEndpoint | undefined;
  /** Who the peer is, when the upgrade authenticated it (see {@link Transport.user}). */
  user?: string | undefined;
  /**
   * WebSocket ping interval (ms, default 30 s; 0 = off). A peer that has not answered the
   * previous ping by the next one is dead and the transport closes: the WebSocket's own
   * ping/pong, which browsers answer without any page code, as TCP keepalive on tcp.
   */
  pingIntervalMs?: number;
  /** How long close() waits for the closing handshake before dropping the socket (default 2 s). */
  closeGraceMs?: number;
}

/** Text for a close frame: at most 123 bytes of UTF-8 (RFC 6455 §5.5). */
function closeText(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** The close code that says why, as the peer's WebSocket API reports it. */
function closeCodeOf(reason: FerryError | undefined): number {
  if (reason === undefined) return WS_CLOSE.normal;
  if (reason instanceof FrameError)
    return reason.reason === 'oversize' ? WS_CLOSE.tooBig : WS_CLOSE.invalidPayload;
  if (reason.code === 'INTERNAL_ERROR') return WS_CLOSE.internalError;
  // A session that ended (AUTH_REQUIRED) and the like: the page should not simply retry.
  return reason.code === 'CONNECT_FAILED' || reason.code === 'AUTH_FAILED'
    ? WS_CLOSE.badGateway
    : WS_CLOSE.policy;
}

/** A Transport over an open `ws` WebSocket; it takes ownership of the socket. */
export class WebSocketTransport implements Transport {
  readonly peer: string;
  readonly local: LocalEndpoint | undefined;
  readonly user: string | undefined;
  readonly #ws: WebSocket;
  readonly #maxFrameBytes: number;
  readonly #maxWriteBuffer: number;
  readonly #closeGraceMs: number;
  readonly #listeners = new TransportListeners();
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true });
  #pingTimer: NodeJS.Timeout | undefined;

  /** Precondition: `ws` is open and nothing else listens for its messages. */
  constructor(ws: WebSocket, options: WebSocketTransportOptions = {}) {
    this.#ws = ws;
    this.peer = options.peer ?? 'websocket';
    this.local = options.local;
    this.user = options.user;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#maxWriteBuffer = options.maxWriteBufferBytes ?? 4 * this.#maxFrameBytes;
    this.#closeGraceMs = options.closeGraceMs ?? 2000;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.#onMessage(data, isBinary);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.#shutdown(this.#reasonOfPeerClose(code, reason.toString('utf8')), false);
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const reason =
        err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
          ? new FrameError(
              'oversize',
              `Frame exceeds the maximum size of ${this.#maxFrameBytes} bytes`,
            )
          : new FerryError(
              'CONNECT_FAILED',
              `Connection with ${this.peer} failed: ${err.message}`,
              {
                cause: err,
              },
            );
      this.#shutdown(reason, false);
    });
    const interval = options.pingIntervalMs ?? 30_000;
    if (interval > 0) this.#startPings(interval);
  }

  get closed(): boolean {
    return this.#listeners.closed;
  }

  /** See {@link Transport.send}. */
  send(msg: object): void {
    if (this.closed) return;
    // encodeFrame checks the size and serializability; the newline is the streams' framing.
    const frame = encodeFrame(msg, this.#maxFrameBytes);
    if (this.#ws.bufferedAmount + frame.length > this.#maxWriteBuffer) {
      this.close(
        new FerryError(
          'CONNECT_FAILED',
          `Connection with ${this.peer} closed: peer is not reading (${this.#ws.bufferedAmount} bytes unsent)`,
        ),
      );
      return;
    }
    this.#ws.send(frame.subarray(0, frame.length - 1), { binary: false });
  }

  /** See {@link Transport.onMessage}. */
  onMessage(cb: (msg: JsonObject) => void): () => void {
    return this.#listeners.onMessage(cb);
  }

  /** See {@link Transport.onClose}. */
  onClose(cb: CloseListener): () => void {
    return this.#listeners.onClose(cb);
  }

  /** See {@link Transport.close}; the peer gets a close code and the reason's message. */
  close(reason?: FerryError): void {
    this.#shutdown(reason, true);
  }

  pause(): void {
    if (!this.closed) this.#ws.pause();
  }

  resume(): void {
    if (!this.closed) this.#ws.resume();
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    let frame: JsonObject;
    try {
      frame = this.#decode(data, isBinary);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      // Tell the peer why before hanging up, as the stream transports do.
      try {
        this.#ws.send(JSON.stringify(makeError(null, err)));
      } catch {
        // A small error frame always encodes; a socket already closing cannot take it.
      }
      this.#shutdown(err, true);
      return;
    }
    // An exception in a listener would be uncaught and crash the daemon: drop this peer instead.
    const failed = this.#listeners.emit(frame);
    if (failed !== undefined) this.#shutdown(failed, true);
  }

  #decode(data: RawData, isBinary: boolean): JsonObject {
    if (isBinary) throw new FrameError('not-object', 'Binary messages are not accepted: send text');
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (bytes.length > this.#maxFrameBytes)
      throw new FrameError(
        'oversize',
        `Frame exceeds the maximum size of ${this.#maxFrameBytes} bytes`,
      );
    let text: string;
    try {
      text = this.#utf8.decode(bytes);
    } catch (err) {
      throw new FrameError('utf8', 'Frame is not valid UTF-8', err);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new FrameError('json', `Frame is not valid JSON: ${(err as Error).message}`, err);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new FrameError('not-object', 'Frame is not a JSON object');
    return value as JsonObject;
  }

  #reasonOfPeerClose(code: number, text: string): FerryError | undefined {
    // 1000 (normal), 1001 (page going away) and 1005 (no code) are ordinary hang-ups.
    if (code === 1000 || code === 1001 || code === 1005) return undefined;
    const why = text === '' ? `code ${code}` : `code ${code}: ${text}`;
    return new FerryError('CONNECT_FAILED', `Connection with ${this.peer} closed (${why})`);
  }

  #startPings(intervalMs: number): void {
    let answered = true;
    this.#ws.on('pong', () => {
      answered = true;
    });
    // Any message proves the peer alive too, so a busy connection is never dropped.
    this.#listeners.onMessage(() => {
      answered = true;
    });
    this.#pingTimer = setInterval(() => {
      if (!answered) {
        this.#shutdown(
          new FerryError(
            'CONNECT_FAILED',
            `Connection with ${this.peer} closed due to keepalive timeout (no reply to a ping in ${intervalMs} ms)`,
          ),
          false,
        );
        return;
      }
      answered = false;
      // Between the peer's close frame and the 'close' event there is nothing to ping.
      if (this.#ws.readyState === this.#ws.OPEN) this.#ws.ping();
    }, intervalMs);
    this.#pingTimer.unref();
  }

  /** `graceful`: send a close frame and wait for the handshake; otherwise drop the socket. */
  #shutdown(reason: FerryError | undefined, graceful: boolean): void {
    if (!this.#listeners.markClosed(reason)) return;
    clearInterval(this.#pingTimer);
    const ws = this.#ws;
    if (ws.readyState === ws.OPEN && graceful) {
      ws.close(closeCodeOf(reason), closeText(reason?.message ?? ''));
      const timer = setTimeout(() => ws.terminate(), this.#closeGraceMs);
      timer.unref();
      ws.once('close', () => {
        clearTimeout(timer);
      });
    } else if (ws.readyState !== ws.CLOSED) {
      ws.terminate();
    }
    this.#listeners.fireClose();
  }
}
