/**
 * The message-level connection that RpcServer and RpcClient are written against, so the
 * same code runs over unix, tcp and tls sockets today and ssh stdio or WebSocket later.
 * @module
 */
import type { FerryError } from '../../common/errors.js';
import type { JsonObject } from '../framing.js';

/**
 * This side of a connection: the socket file, or the address and port. On an accepted
 * connection that is what the client dialled, which e.g. tells a migration destination
 * which of its addresses the source can reach.
 */
export type LocalEndpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp' | 'tls' | 'websocket'; readonly address: string; readonly port: number };

/** Called once when a transport closes; `reason` is set when it closed because of a failure. */
export type CloseListener = (reason: FerryError | undefined) => void;

/** A bidirectional, ordered channel of JSON objects. */
export interface Transport {
  /** Who is on the other side, for logs and error messages (e.g. `unix:/run/ferry/ferryd.sock`). */
  readonly peer: string;
  /** This side's endpoint, when it has a name (an unnamed unix client socket has none). */
  readonly local: LocalEndpoint | undefined;
  /**
   * Who the peer is when the transport itself authenticated it before any RPC (the web
   * console's WebSocket: the upgrade required a signed-in session); undefined otherwise, and
   * then the RPC layer's own login decides.
   */
  readonly user?: string | undefined;
  /** True once closed locally or by the peer; sends are then dropped. */
  readonly closed: boolean;
  /**
   * Queues one message. Throws a FrameError if it cannot be encoded (too big, not JSON);
   * silently drops it if the transport is closed, as delivery is never guaranteed anyway.
   */
  send(msg: object): void;
  /** Subscribes to incoming messages; returns an unsubscribe function. */
  onMessage(cb: (msg: JsonObject) => void): () => void;
  /** Subscribes to the close event (called at once, asynchronously, if already closed). */
  onClose(cb: CloseListener): () => void;
  /** Closes the channel after flushing queued output; `reason` is passed to close listeners. */
  close(reason?: FerryError): void;
  /** Stops delivering incoming messages (backpressure); the peer's sends then block in the kernel. */
  pause(): void;
  /** Resumes delivery after {@link Transport.pause}. */
  resume(): void;
}

export { StreamTransport } from './stream.js';
export type { StreamTransportOptions } from './stream.js';
export { listenUnix, connectUnix } from './unix.js';
export type { UnixListener, ListenUnixOptions, ConnectUnixOptions } from './unix.js';
export { connectTcp, formatHostPort, listenTcp } from './tcp.js';
export { connectTls, listenTls } from './tls.js';
export type {
  ConnectTlsOptions,
  ListenTlsOptions,
  TlsClientPolicy,
  TlsRefusal,
  TlsServerFiles,
} from './tls.js';
export { WebSocketTransport, WS_CLOSE } from './websocket.js';
export type { WebSocketTransportOptions } from './websocket.js';
export type { ConnectTcpOptions, ListenTcpOptions, TcpListener } from './tcp.js';
