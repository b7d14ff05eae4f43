/**
 * TCP listener and connector (`qemu+tcp://HOST[:16509]/system`, libvirtd's listen_tcp).
 * The bytes are not encrypted; who may call what is decided above the transport (SASL
 * login, see src/auth/login.ts), or not at all with auth_tcp = "none".
 * @module
 */
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { FerryError } from '../../common/errors.js';
import { describeErrno } from '../../common/node/errno.js';
import type { LocalEndpoint, Transport } from './index.js';
import { acceptStream, closeServer, StreamTransport, whenConnected } from './stream.js';
import type { StreamTransportOptions } from './stream.js';

export const DEFAULT_TCP_CONNECT_TIMEOUT_MS = 5000;

/**
 * Idle time before the kernel starts probing a silent peer. Kernel keepalive rather than
 * RPC keepalive pings: it needs no cooperation from the peer's event loop, so a CLI blocked
 * in an editor (`ferry edit`) is not mistaken for a dead host.
 */
const TCP_KEEPALIVE_IDLE_MS = 30_000;

export interface ListenTcpOptions extends Omit<StreamTransportOptions, 'peer' | 'local'> {
  /** Called with listener errors (e.g. EMFILE on accept), which must not crash the daemon. */
  onError?: (err: Error) => void;
}

export interface ConnectTcpOptions extends Omit<StreamTransportOptions, 'peer' | 'local'> {
  /** Give up connecting after this long (default 5000 ms). */
  timeoutMs?: number;
}

/** A listening TCP socket. */
export interface TcpListener {
  /** The address and port actually bound (the real port when 0 was asked for). */
  readonly address: { readonly address: string; readonly port: number };
  /** Stops accepting and closes the connections it accepted. */
  close(): Promise<void>;
}

/** `HOST:PORT`, with an IPv6 address bracketed as in a URI (`[::1]:16509`). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`; callers compare and reuse
 * addresses (e.g. to listen on the same one), so the plain IPv4 form is what they get.
 */
export function plainAddress(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/** Low latency over throughput: every RPC is a small frame that someone is waiting for. */
export function tune(socket: Socket): void {
  socket.setNoDelay(true);
  socket.setKeepAlive(true, TCP_KEEPALIVE_IDLE_MS);
}

function connectFailed(where: string, err: NodeJS.ErrnoException | string): FerryError {
  const why = typeof err === 'string' ? err : describeErrno(err);
  return new FerryError('CONNECT_FAILED', `Failed to connect to '${where}': ${why}`, {
    ...(typeof err === 'string' ? {} : { cause: err }),
  });
}

/**
 * Connects to HOST:PORT and wraps the socket in a {@link StreamTransport}; fails with a
 * CONNECT_FAILED FerryError naming HOST:PORT and the OS reason.
 */
export async function connectTcp(
  host: string,
  port: number,
  options: ConnectTcpOptions = {},
): Promise<Transport> {
  const { timeoutMs = DEFAULT_TCP_CONNECT_TIMEOUT_MS, ...transportOptions } = options;
  const where = formatHostPort(host, port);
  const socket = await whenConnected(createConnection({ host, port }), timeoutMs, (why) =>
    connectFailed(where, why),
  );
  tune(socket);
  const local: LocalEndpoint | undefined =
    socket.localAddress === undefined || socket.localPort === undefined
      ? undefined
      : { kind: 'tcp', address: plainAddress(socket.localAddress), port: socket.localPort };
  return new StreamTransport(socket, { ...transportOptions, peer: `tcp:${where}`, local });
}

/**
 * Binds `server` to HOST:PORT; fails with SYSTEM_ERROR "Cannot listen on HOST:PORT: Address
 * already in use" and the like. Resolves with the address actually bound.
 */
export async function bindTcp(
  server: Server,
  host: string,
  port: number,
): Promise<{ address: string; port: number }> {
  try {
    await bind(server, host, port);
  } catch (err) {
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot listen on ${formatHostPort(host, port)}: ${describeErrno(err)}`,
      { cause: err },
    );
  }
  const bound = server.address();
  // Always an AddressInfo for a TCP server; the string form is for pipes.
  return bound !== null && typeof bound === 'object'
    ? { address: plainAddress(bound.address), port: bound.port }
    : { address: host, port };
}

/** The two ends of an accepted socket, or undefined if the client reset it before we saw it. */
export function socketEnds(
  socket: Socket,
): { remote: string; local: { address: string; port: number } } | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (
    remoteAddress === undefined ||
    remotePort === undefined ||
    localAddress === undefined ||
    localPort === undefined
  )
    return undefined;
  return {
    remote: formatHostPort(plainAddress(remoteAddress), remotePort),
    local: { address: plainAddress(localAddress), port: localPort },
  };
}

function bind(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(err);
    };
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    server.listen({ host, port });
  });
}

/**
 * Listens on HOST:PORT (port 0: any free port, see {@link TcpListener.address}). Fails with
 * SYSTEM_ERROR "Cannot listen on HOST:PORT: Address already in use" and the like.
 * Precondition: the caller handles each Transport passed to `onConnection` (e.g. RpcServer.handle).
 */
export async function listenTcp(
  host: string,
  port: number,
  onConnection: (transport: Transport) => void,
  options: ListenTcpOptions = {},
): Promise<TcpListener> {
  const { onError, ...transportOptions } = options;
  const transports = new Set<Transport>();
  const server = createServer((socket: Socket) => {
    const ends = socketEnds(socket);
    // Reset by the client before we saw it: nothing to serve.
    if (ends === undefined) {
      socket.destroy();
      return;
    }
    tune(socket);
    acceptStream(
      socket,
      { ...transportOptions, peer: `tcp:${ends.remote}`, local: { kind: 'tcp', ...ends.local } },
      transports,
      onConnection,
      onError,
    );
  });
  const address = await bindTcp(server, host, port);
  server.on('error', (err) => onError?.(err));

  return {
    address,
    close: () => closeServer(server, transports),
  };
}
