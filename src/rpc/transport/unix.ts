/**
 * Unix domain socket listener and connector (ferryd's default, like libvirt's
 * /run/libvirt/libvirt-sock): the socket file's mode is the access control.
 * @module
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { FerryError } from '../../common/errors.js';
import { describeErrno } from '../../common/node/errno.js';
import { socketConnectError } from '../socket-path.js';
import type { Transport } from './index.js';
import { acceptStream, closeServer, StreamTransport, whenConnected } from './stream.js';
import type { StreamTransportOptions } from './stream.js';

export interface ListenUnixOptions extends Omit<StreamTransportOptions, 'peer' | 'local'> {
  /** Permission bits of the socket file (default 0o600: only the owner, i.e. root, may connect). */
  mode?: number;
  /** How long to wait when probing whether an existing socket is alive (default 1000 ms). */
  probeTimeoutMs?: number;
  /** Called with listener errors (e.g. EMFILE on accept), which must not crash the daemon. */
  onError?: (err: Error) => void;
}

export interface ConnectUnixOptions extends Omit<StreamTransportOptions, 'peer' | 'local'> {
  /** Give up connecting after this long (default 5000 ms). */
  timeoutMs?: number;
}

/** A listening unix socket. */
export interface UnixListener {
  readonly path: string;
  /** Stops accepting, closes the connections it accepted and removes the socket file. */
  close(): Promise<void>;
}

/**
 * Connects to a unix socket and wraps it in a {@link StreamTransport}; fails with a
 * CONNECT_FAILED FerryError naming the path and the OS reason.
 */
export async function connectUnix(
  path: string,
  options: ConnectUnixOptions = {},
): Promise<Transport> {
  const { timeoutMs = 5000, ...transportOptions } = options;
  const socket = await whenConnected(createConnection({ path }), timeoutMs, (why) =>
    socketConnectError(path, why),
  );
  return new StreamTransport(socket, { ...transportOptions, peer: `unix:${path}` });
}

/** Resolves true if a process may be serving `path` (so its socket file is not stale). */
function isAlive(path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (alive: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    // A timeout means a process holds the socket but is wedged: still not ours to delete.
    const timer = setTimeout(() => {
      done(true);
    }, timeoutMs);
    socket.once('connect', () => {
      done(true);
    });
    // Only "refused" (or "gone") proves nobody listens; EACCES and the like prove nothing.
    socket.once('error', (err: NodeJS.ErrnoException) => {
      done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT');
    });
  });
}

function bind(server: Server, path: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(err);
    };
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    // bind(2) creates the socket file with the process umask; narrowing the umask around
    // the (synchronous) bind closes the window in which the socket is reachable by anyone
    // before chmod. Worker threads cannot change the umask; chmod below still applies.
    let previous: number | undefined;
    try {
      previous = process.umask(~mode & 0o777);
    } catch {
      previous = undefined;
    }
    try {
      server.listen(path);
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}

/**
 * Listens on a unix socket, replacing a stale socket file but refusing if a live process
 * answers there; the socket is chmod'ed to `mode` and its parent directory created (0755).
 * Precondition: the caller handles each Transport passed to `onConnection` (e.g. RpcServer.handle).
 */
export async function listenUnix(
  path: string,
  onConnection: (transport: Transport) => void,
  options: ListenUnixOptions = {},
): Promise<UnixListener> {
  const { mode = 0o600, probeTimeoutMs = 1000, onError, ...transportOptions } = options;
  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot create directory '${dir}': ${describeErrno(err)}`,
      { cause: err },
    );
  }
  const transports = new Set<Transport>();
  const server = createServer((socket: Socket) => {
    acceptStream(
      socket,
      {
        ...transportOptions,
        peer: `unix:${path}`,
        local: { kind: 'unix', path },
      },
      transports,
      onConnection,
      onError,
    );
  });

  try {
    await bind(server, path, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw listenFailed(path, err);
    // Something exists at `path`. Only a socket nobody answers on is ours to replace:
    // deleting a live daemon's socket would silently orphan it.
    const stat = await lstat(path).catch(() => undefined);
    if (stat !== undefined && !stat.isSocket()) {
      throw new FerryError('OPERATION_FAILED', `Path '${path}' exists and is not a socket`);
    }
    if (await isAlive(path, probeTimeoutMs)) {
      throw new FerryError('OPERATION_FAILED', `Socket ${path} is in use by another ferryd`);
    }
    await unlink(path).catch(() => undefined);
    try {
      await bind(server, path, mode);
    } catch (retryErr) {
      throw listenFailed(path, retryErr);
    }
  }
  server.on('error', (err) => onError?.(err));
  try {
    await chmod(path, mode);
  } catch (err) {
    server.close();
    throw listenFailed(path, err);
  }
  const { ino } = await lstat(path);

  return {
    path,
    close: async () => {
      await closeServer(server, transports);
      // Node normally unlinks the socket on close; remove it ourselves only if it is
      // still the file we created (a newer daemon may have taken the path over).
      const now = await lstat(path).catch(() => undefined);
      if (now?.ino === ino) await unlink(path).catch(() => undefined);
    },
  };
}

function listenFailed(path: string, err: unknown): FerryError {
  const why = describeErrno(err);
  return new FerryError('SYSTEM_ERROR', `Failed to bind socket to '${path}': ${why}`, {
    cause: err,
  });
}
