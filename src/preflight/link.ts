/**
 * The link between a migration's source and destination, measured the way the stream will
 * travel: the destination opens a sink on a port of its incoming-migration range, the
 * source sends to it for a few seconds, and the destination times what arrived. One
 * measurement so proves that range reachable from the source and gives the bandwidth.
 * @module
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { FerryError, messageOf } from '../common/errors.js';
import { DEFAULT_PORT_RANGE } from '../migration/ports.js';
import { formatHostPort } from '../rpc/index.js';
import type { PeerClient } from '../migration/peer.js';

/** What a sink received, timed on the receiving side from the first byte to the last. */
export interface LinkSinkResult {
  bytes: number;
  ms: number;
}

export interface LinkSink {
  readonly port: number;
  readonly host: string;
  /**
   * Once every sender has closed (or the sink's lifetime ended), what arrived; closes the
   * sink. Called before any sender connected, it closes the sink at once with nothing.
   */
  result(): Promise<LinkSinkResult>;
  close(): void;
}

export interface LinkMeasurement {
  port: number;
  bytesPerSecond: number;
  durationMs: number;
}

export interface OpenLinkSinkOptions {
  /** The sink closes itself this long after opening (default 30 s). */
  lifetimeMs?: number;
  range?: readonly [number, number];
}

const DEFAULT_SINK_LIFETIME_MS = 30_000;
/** How long the source waits for the TCP handshake before calling the port unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;
const CHUNK = Buffer.alloc(1024 * 1024, 0xa5);

function listenOn(server: Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

/**
 * Opens a sink on the first free port of the range (49152–49215, as the migration stream's)
 * at `listenHost` (default loopback). It binds the port itself, so no migration can be
 * handed the same one while it is open.
 */
export async function openLinkSink(
  listenHost: string | undefined,
  options: OpenLinkSinkOptions = {},
): Promise<LinkSink> {
  const host = listenHost ?? '127.0.0.1';
  const [low, high] = options.range ?? DEFAULT_PORT_RANGE;
  const sockets = new Set<Socket>();
  let bytes = 0;
  let firstAt: number | undefined;
  let lastAt = 0;
  let connections = 0;
  let settle: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (settle = resolve));
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      firstAt ??= now;
      lastAt = now;
      bytes += chunk.length;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) settle?.();
    });
  });
  let port: number | undefined;
  try {
    for (let p = low; p <= high && port === undefined; p++)
      if (await listenOn(server, host, p)) port = p;
  } catch (err) {
    throw new FerryError('SYSTEM_ERROR', `Cannot listen on ${host}: ${messageOf(err)}`, {
      cause: err,
    });
  }
  if (port === undefined)
    throw new FerryError(
      'OPERATION_FAILED',
      `Unable to find an unused port in range ${low}-${high} on ${host} for the link measurement`,
    );
  const timer = setTimeout(() => settle?.(), options.lifetimeMs ?? DEFAULT_SINK_LIFETIME_MS);
  timer.unref();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    server.close();
    for (const s of sockets) s.destroy();
    settle?.();
  };
  return {
    port,
    host,
    close,
    async result() {
      // A sender sees its socket close only after this side has read everything and closed
      // too: so with no connection yet, none is coming (the source could not connect).
      if (connections > 0) await done;
      close();
      return { bytes, ms: firstAt === undefined ? 0 : lastAt - firstAt };
    },
  };
}

/** Connects to host:port within CONNECT_TIMEOUT_MS, or throws naming both. */
function connectSink(host: string, port: number, signal: AbortSignal | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS, signal });
    const fail = (why: string, cause?: unknown): void => {
      socket.destroy();
      reject(
        new FerryError(
          'CONNECT_FAILED',
          `Destination port ${port} on ${host} is not reachable from the source: ${why}`,
          { cause },
        ),
      );
    };
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('timeout', () => fail(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`));
    socket.once('error', (err) => fail(messageOf(err), err));
  });
}

/** Writes to `socket` as fast as it takes for `seconds`, then ends it and waits for close. */
function send(socket: Socket, seconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const until = performance.now() + seconds * 1000;
    let failed: Error | undefined;
    socket.on('error', (err) => (failed = err));
    socket.once('close', () => (failed === undefined ? resolve() : reject(failed)));
    const pump = (): void => {
      while (performance.now() < until && !signal?.aborted && failed === undefined)
        if (!socket.write(CHUNK)) return void socket.once('drain', pump);
      socket.end();
    };
    pump();
  });
}

/**
 * Measures the link to the destination ferryd `peer` as the migration stream would use it:
 * a sink in the destination's incoming port range, `destHost` the address the stream goes
 * to (see PrepareParams.destHost and streamUris). Throws CONNECT_FAILED naming host:port
 * when the source cannot reach that port (a firewall on the migration range).
 */
export async function measureLink(
  peer: Pick<PeerClient, 'call'>,
  destHost: string,
  opts: { seconds: number; signal?: AbortSignal; listenAddress?: string },
): Promise<LinkMeasurement> {
  const { signal } = opts;
  const sink = await peer.call(
    'link.openSink',
    {
      destHost,
      seconds: opts.seconds,
      ...(opts.listenAddress === undefined ? {} : { listenAddress: opts.listenAddress }),
    },
    signal === undefined ? {} : { signal },
  );
  // The sink may listen on a wildcard: send to the name the stream would use.
  const host = sink.host === '0.0.0.0' || sink.host === '::' ? destHost : sink.host;
  let socket: Socket;
  try {
    socket = await connectSink(host, sink.port, signal);
  } catch (err) {
    // Tell the sink to give up now rather than at the end of its lifetime.
    void peer.call('link.sinkResult', { port: sink.port }).catch(() => undefined);
    throw err;
  }
  await send(socket, opts.seconds, signal).catch((err: unknown) => {
    throw new FerryError(
      'OPERATION_FAILED',
      `Link measurement to ${formatHostPort(host, sink.port)} failed: ${messageOf(err)}`,
      { cause: err },
    );
  });
  signal?.throwIfAborted();
  const r = await peer.call('link.sinkResult', { port: sink.port });
  if (r.bytes === 0 || r.ms <= 0)
    throw new FerryError(
      'OPERATION_FAILED',
      `Link measurement to ${formatHostPort(host, sink.port)} received nothing`,
    );
  return { port: sink.port, bytesPerSecond: (r.bytes * 1000) / r.ms, durationMs: r.ms };
}
