/**
 * The console's HTTP(S) server: sign-in pages, the front end's static files (signed-in only),
 * and the WebSocket upgrade, with the security headers on every response. It does no RPC
 * itself: local WebSockets are handed to ferryd's RpcServer, remote ones to the relay.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { FerryError, messageOf } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';
import { DEFAULT_MAX_FRAME_BYTES, formatHostPort, type Transport } from '../rpc/index.js';
import { SESSION_COOKIE, parseCookies } from './cookies.js';
import type { FleetMembers } from '../fleet/index.js';
import { setSecurityHeaders } from './security-headers.js';
import { SessionStore, type SessionStoreOptions } from './sessions.js';
import { getLogin, postLogin, postLogout, type SignInLog } from './sign-in.js';
import { SignInLimiter, type SignInLimiterOptions } from './sign-in-limiter.js';
import { serveStatic } from './static-files.js';
import { handleUpgrade } from './upgrade.js';

/** The built front end beside this module once compiled: dist/console/ → dist/web/. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

export interface ConsoleLog extends SignInLog {
  debug?(obj: object, msg?: string): void;
}

export interface ConsoleOptions {
  address: string;
  /** 0 = any free port (see {@link ConsoleServer.port}). */
  port: number;
  /** HTTPS with these files (the host's certificate); undefined = plain HTTP. */
  tls?: { keyFile: string; certFile: string } | undefined;
  /** The built front end (default {@link DEFAULT_WEB_DIR}). */
  webDir?: string | undefined;
  accountsFile: string;
  hostname: string;
  maxFrameBytes?: number;
  /** Serves one local RPC connection (RpcServer.handle). */
  handle: (transport: Transport) => void;
  hosts: FleetMembers;
  log: ConsoleLog;
  sessions?: SessionStoreOptions;
  limiter?: SignInLimiterOptions;
}

export interface ConsoleServer {
  /** The address and port bound. */
  readonly address: string;
  readonly port: number;
  /** `http(s)://HOST:PORT/`. */
  readonly url: string;
  /** Ends every session (closing their sockets) and stops listening. */
  close(): Promise<void>;
}

function readTlsFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot read the web console's TLS ${what} '${file}': ${describeErrno(err)}`,
      {
        cause: err,
      },
    );
  }
}

function listen(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new FerryError(
          'SYSTEM_ERROR',
          `Cannot listen on ${formatHostPort(address, port)} for the web console: ${describeErrno(err)}`,
          {
            cause: err,
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host: address, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Opens the console's listener; fails (SYSTEM_ERROR naming the file or address) if it cannot. */
export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const secure = options.tls !== undefined;
  const server: Server =
    options.tls === undefined
      ? createHttpServer()
      : createHttpsServer({
          key: readTlsFile(options.tls.keyFile, 'key'),
          cert: readTlsFile(options.tls.certFile, 'certificate'),
        });
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const sessions = new SessionStore(options.sessions);
  const limiter = new SignInLimiter(options.limiter);
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes });
  const webDir = options.webDir ?? DEFAULT_WEB_DIR;
  const { log } = options;
  // Signing in still works; the page itself is missing until the front end is built.
  if (!existsSync(join(webDir, 'index.html')))
    log.warn({ webDir }, 'web console: no index.html in the web directory (run npm run build)');
  const signIn = {
    sessions,
    limiter,
    accountsFile: options.accountsFile,
    secure,
    hostname: options.hostname,
    log,
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setSecurityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://console');
    const method = req.method ?? 'GET';
    if (url.pathname === '/login') {
      if (method === 'GET' || method === 'HEAD') return getLogin(req, res, url, signIn);
      if (method === 'POST') return postLogin(req, res, signIn);
      return methodNotAllowed(res, 'GET, POST');
    }
    if (url.pathname === '/logout') {
      if (method === 'POST') return postLogout(req, res, signIn);
      return methodNotAllowed(res, 'POST');
    }
    const session = sessions.use(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    if (session === undefined) {
      const wantsHtml = (req.headers.accept ?? '').includes('text/html');
      if (wantsHtml) {
        res.writeHead(303, { Location: '/login', 'Cache-Control': 'no-store' });
        res.end();
      } else sendJson(res, 401, { error: 'sign-in required' });
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET');
    const served = await serveStatic(req, res, url.pathname, {
      root: webDir,
      csrf: session.csrf,
      user: session.user,
    });
    if (!served) sendJson(res, 404, { error: 'not found' });
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      log.error({ err: messageOf(err), url: req.url }, 'console request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    handleUpgrade(req, socket, head, {
      sessions,
      wss,
      secure,
      maxFrameBytes,
      handleLocal: options.handle,
      hosts: options.hosts,
      log,
    });
  });
  server.on('tlsClientError', (err: Error) =>
    log.warn({ err: err.message }, 'console TLS client error'),
  );

  await listen(server, options.address, options.port);
  const bound = server.address();
  const port = bound !== null && typeof bound === 'object' ? bound.port : options.port;
  const hostPort = formatHostPort(options.address, port);
  return {
    address: options.address,
    port,
    url: `${secure ? 'https' : 'http'}://${hostPort}/`,
    close: async () => {
      sessions.close();
      for (const ws of wss.clients) ws.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendJson(res, 405, { error: 'method not allowed' });
}
