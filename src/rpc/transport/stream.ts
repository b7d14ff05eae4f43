/**
 * A {@link Transport} over any byte Duplex (unix/tcp/tls sockets, an ssh child's stdio)
 * using newline-delimited JSON frames. Malformed input from the peer is answered with a
 * JSON-RPC error (id null) and the connection is closed; it never throws out of an event.
 * @module
 */
import type { Duplex } from 'node:stream';
import { FerryError } from '../../common/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError, encodeFrame } from '../framing.js';
import type { JsonObject } from '../framing.js';
import { makeError } from '../protocol.js';
import type { CloseListener, LocalEndpoint, Transport } from './index.js';
import { TransportListeners } from './listeners.js';

export interface StreamTransportOptions {
  /** Largest frame accepted or sent, in bytes (default 16 MiB). */
  maxFrameBytes?: number;
  /**
   * Output allowed to queue up for a peer that does not read before we give up on it
   * (default 4 × maxFrameBytes); stops event broadcasts from growing memory without bound.
   */
  maxWriteBufferBytes?: number;
  /** Peer description for logs and errors (default `stream`). */
  peer?: string;
  /** This side's endpoint (see {@link Transport.local}); default none. */
  local?: LocalEndpoint | undefined;
  /** How long close() waits for the peer to finish before destroying the stream (default 2 s). */
  closeGraceMs?: number;
}

/** A Transport over a Duplex byte stream; it takes ownership of the stream. */
export class StreamTransport implements Transport {
  readonly peer: string;
  readonly local: LocalEndpoint | undefined;
  readonly #stream: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #maxWriteBuffer: number;
  readonly #closeGraceMs: number;
  readonly #listeners = new TransportListeners();

  /** Precondition: nothing else reads from `stream` (we consume 'data' events). */
  constructor(stream: Duplex, options: StreamTransportOptions = {}) {
    this.#stream = stream;
    this.peer = options.peer ?? 'stream';
    this.local = options.local;
    this.#decoder = new FrameDecoder(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    this.#maxWriteBuffer = options.maxWriteBufferBytes ?? 4 * this.#decoder.maxFrameBytes;
    this.#closeGraceMs = options.closeGraceMs ?? 2000;
    stream.on('data', (chunk: Buffer | string) => {
      this.#onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    });
    stream.on('end', () => {
      this.#shutdown(undefined);
    });
    stream.on('close', () => {
      this.#shutdown(undefined);
    });
    stream.on('error', (err: Error) => {
      this.#shutdown(
        new FerryError('CONNECT_FAILED', `Connection with ${this.peer} failed: ${err.message}`, {
          cause: err,
        }),
      );
    });
  }

  get closed(): boolean {
    return this.#listeners.closed;
  }

  /** See {@link Transport.send}. */
  send(msg: object): void {
    if (this.closed) return;
    const frame = encodeFrame(msg, this.#decoder.maxFrameBytes);
    if (this.#stream.writableLength + frame.length > this.#maxWriteBuffer) {
      this.close(
        new FerryError(
          'CONNECT_FAILED',
          `Connection with ${this.peer} closed: peer is not reading (${this.#stream.writableLength} bytes unsent)`,
        ),
      );
      return;
    }
    this.#stream.write(frame);
  }

  /** See {@link Transport.onMessage}. */
  onMessage(cb: (msg: JsonObject) => void): () => void {
    return this.#listeners.onMessage(cb);
  }

  /** See {@link Transport.onClose}. */
  onClose(cb: CloseListener): () => void {
    return this.#listeners.onClose(cb);
  }

  /** See {@link Transport.close}. */
  close(reason?: FerryError): void {
    this.#shutdown(reason);
  }

  pause(): void {
    if (!this.closed) this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  #onData(chunk: Buffer): void {
    // After close we keep reading (and discarding) so the peer's EOF is seen promptly.
    if (this.closed) return;
    try {
      this.#decoder.push(chunk, (frame) => {
        // A listener may have closed us mid-chunk; later frames must not be delivered.
        if (!this.closed) this.#emit(frame);
      });
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      // Best effort: tell the peer why before hanging up; the stream is out of sync.
      try {
        this.#stream.write(encodeFrame(makeError(null, err), this.#decoder.maxFrameBytes));
      } catch {
        // The error frame itself is small and serializable; nothing useful to do here.
      }
      this.#shutdown(err);
    }
  }

  #emit(frame: JsonObject): void {
    // A bug in a listener must not crash the daemon: drop this connection instead.
    const failed = this.#listeners.emit(frame);
    if (failed !== undefined) this.#shutdown(failed);
  }

  #shutdown(reason: FerryError | undefined): void {
    if (!this.#listeners.markClosed(reason)) return;
    const stream = this.#stream;
    if (!stream.destroyed) {
      // end() flushes what we queued (e.g. the error frame); destroy() later in case the
      // peer never closes its side. resume() so pending input is drained, not left paused.
      stream.end();
      stream.resume();
      const timer = setTimeout(() => stream.destroy(), this.#closeGraceMs);
      timer.unref();
      stream.once('close', () => {
        clearTimeout(timer);
      });
    }
    this.#listeners.fireClose();
  }
}

/**
 * Serves one accepted connection: wraps it, keeps it in `accepted` until it closes (so the
 * listener's close() can end it), and hands it to `onConnection`. A handler that throws drops
 * only this client: thrown from a 'connection' event, the error would be uncaught.
 */
export function acceptStream(
  stream: Duplex,
  options: StreamTransportOptions,
  accepted: Set<Transport>,
  onConnection: (transport: Transport) => void,
  onError: ((err: Error) => void) | undefined,
): void {
  const transport = new StreamTransport(stream, options);
  accepted.add(transport);
  transport.onClose(() => accepted.delete(transport));
  try {
    onConnection(transport);
  } catch (err) {
    transport.close(new FerryError('INTERNAL_ERROR', 'Internal error', { cause: err }));
    onError?.(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * Waits until `socket` (just created with net.createConnection) is connected, giving up after
 * `timeoutMs`; `failed` turns the OS error, or the timeout's reason, into the caller's error.
 */
export function whenConnected<S extends Duplex & { once(e: 'connect', cb: () => void): S }>(
  socket: S,
  timeoutMs: number,
  failed: (why: NodeJS.ErrnoException | string) => FerryError,
): Promise<S> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(failed('Connection timed out'));
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      reject(failed(err));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Stops `server` accepting and ends every connection it accepted; resolves once closed. */
export async function closeServer(
  server: { close(cb: () => void): unknown },
  accepted: Iterable<Transport>,
): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  for (const t of accepted) t.close();
  await closed;
}
