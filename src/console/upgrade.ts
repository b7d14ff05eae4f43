/**
 * The console's WebSocket: `GET /rpc?host=ID&csrf=TOKEN` upgraded only for a signed-in
 * session whose CSRF token matches and from a page of this very server (the Origin header),
 * all checked before upgrading (401/403 otherwise). The socket then carries JSON-RPC frames:
 * to this ferryd's RpcServer (host absent or `local`, logged in as the session's user), or
 * relayed to a known remote host. Ending the session closes it.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { FerryError, messageOf } from '../common/errors.js';
import { WebSocketTransport, formatHostPort, type Transport } from '../rpc/index.js';
import { SESSION_COOKIE, parseCookies, sameToken } from './cookies.js';
import { relayToHost, type RelayLog } from './relay.js';
import { LOCAL_HOST_ID, type FleetMembers } from '../fleet/index.js';
import { SECURITY_HEADERS } from './security-headers.js';
import type { SessionStore } from './sessions.js';
import { clientAddress } from './sign-in.js';

export interface UpgradeContext {
  readonly sessions: SessionStore;
  readonly wss: WebSocketServer;
  readonly secure: boolean;
  readonly maxFrameBytes: number;
  /** Serves a local connection (RpcServer.handle). */
  readonly handleLocal: (transport: Transport) => void;
  readonly hosts: FleetMembers;
  readonly log: RelayLog;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
};

/** Answers an upgrade request with a plain HTTP error and hangs up. */
function refuse(socket: Duplex, status: number, error: string): void {
  const body = JSON.stringify({ error });
  const headers = {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n${head}\r\n${body}`);
}

/** Whether the request comes from a page of this server (scheme and Host as it was reached). */
export function sameOrigin(req: IncomingMessage, secure: boolean): boolean {
  const { origin, host } = req.headers;
  if (origin === undefined || host === undefined) return false;
  return origin.toLowerCase() === `${secure ? 'https' : 'http'}://${host.toLowerCase()}`;
}

/** Handles the server's 'upgrade' event. */
export function handleUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ctx: UpgradeContext,
): void {
  socket.on('error', () => undefined);
  void upgrade(req, socket, head, ctx).catch((err: unknown) => {
    ctx.log.warn({ err: messageOf(err) }, 'console WebSocket upgrade failed');
    if (!socket.destroyed) refuse(socket, 500, 'internal error');
  });
}

async function upgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ctx: UpgradeContext,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://console');
  if (url.pathname !== '/rpc') {
    refuse(socket, 404, 'not found');
    return;
  }
  const session = ctx.sessions.use(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
  if (session === undefined) {
    refuse(socket, 401, 'sign-in required');
    return;
  }
  if (!sameToken(session.csrf, url.searchParams.get('csrf') ?? undefined)) {
    refuse(socket, 403, 'invalid CSRF token');
    return;
  }
  if (!sameOrigin(req, ctx.secure)) {
    ctx.log.warn(
      { user: session.user, origin: req.headers.origin ?? null },
      'console WebSocket refused: foreign origin',
    );
    refuse(socket, 403, 'foreign origin');
    return;
  }
  const hostId = url.searchParams.get('host') ?? LOCAL_HOST_ID;
  const remote = hostId === LOCAL_HOST_ID ? undefined : await ctx.hosts.find(hostId);
  if (hostId !== LOCAL_HOST_ID && remote === undefined) {
    refuse(socket, 404, `no console host with id '${hostId}'`);
    return;
  }
  ctx.wss.handleUpgrade(req, socket, head, (ws) => {
    const local = req.socket.localAddress;
    const localPort = req.socket.localPort;
    const transport = new WebSocketTransport(ws, {
      peer: `ws:${formatHostPort(clientAddress(req), req.socket.remotePort ?? 0)}`,
      local:
        local === undefined || localPort === undefined
          ? undefined
          : { kind: 'websocket', address: local, port: localPort },
      user: session.user,
      maxFrameBytes: ctx.maxFrameBytes,
    });
    const detach = ctx.sessions.attach(session.token, () => {
      transport.close(new FerryError('AUTH_REQUIRED', 'Your session has ended; sign in again'));
    });
    transport.onClose(detach);
    if (remote === undefined) ctx.handleLocal(transport);
    else relayToHost(transport, remote.uri, () => ctx.hosts.connect(remote), ctx.log);
  });
}
