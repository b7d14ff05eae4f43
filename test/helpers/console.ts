/**
 * Talking to a ferryd's web console as a browser would, for integration tests: plain HTTP(S)
 * requests with cookies by hand, the sign-in form, and the JSON-RPC WebSocket.
 * @module
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { TestDaemon } from './daemon.js';

export interface HttpReply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ConsoleTarget {
  /** `http(s)://HOST:PORT/` from the 'ferryd ready' line. */
  url: string;
  /** The CA to trust for HTTPS. */
  ca?: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Source address to connect from (another "client"), e.g. 127.0.0.3. */
  localAddress?: string;
}

/** One request to the console; no redirects followed, no cookies kept. */
export async function consoleRequest(
  target: ConsoleTarget,
  path: string,
  options: RequestOptions = {},
): Promise<HttpReply> {
  const url = new URL(path, target.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = request(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    ...(target.ca === undefined ? {} : { ca: target.ca }),
  });
  req.end(options.body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

/** The value of cookie `name` among a reply's Set-Cookie headers, with its attributes. */
export function setCookie(
  reply: HttpReply,
  name: string,
): { value: string; attributes: string } | undefined {
  for (const line of reply.headers['set-cookie'] ?? []) {
    const m = new RegExp(`^${name}=([^;]*)(.*)$`).exec(line);
    if (m !== null) return { value: m[1] ?? '', attributes: m[2] ?? '' };
  }
  return undefined;
}

/** GET /login: the form's CSRF token and the matching cookie. */
export async function loginForm(
  target: ConsoleTarget,
  localAddress?: string,
): Promise<{ csrf: string; cookie: string }> {
  const page = await consoleRequest(
    target,
    '/login',
    localAddress === undefined ? {} : { localAddress },
  );
  assert.equal(page.status, 200);
  const m = /name="csrf" value="([^"]+)"/.exec(page.body);
  assert.ok(m?.[1] !== undefined, 'the form has a csrf field');
  const cookie = setCookie(page, 'ferry_login');
  assert.ok(
    cookie !== undefined && cookie.value === m[1],
    'double submit: the same token in a cookie',
  );
  return { csrf: m[1], cookie: `ferry_login=${cookie.value}` };
}

/** POST /login with a fresh form; returns the reply (303 with the session cookie on success). */
export async function signIn(
  target: ConsoleTarget,
  user: string,
  password: string,
  localAddress?: string,
): Promise<HttpReply> {
  const form = await loginForm(target, localAddress);
  return consoleRequest(target, '/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: form.cookie },
    body: new URLSearchParams({ csrf: form.csrf, user, password }).toString(),
    ...(localAddress === undefined ? {} : { localAddress }),
  });
}

/** A signed-in browser: its session cookie and the CSRF token index.html carries. */
export interface ConsoleSession {
  cookie: string;
  csrf: string;
}

/** Signs in and reads the CSRF token from index.html's meta tag. */
export async function openSession(
  target: ConsoleTarget,
  user: string,
  password: string,
): Promise<ConsoleSession> {
  const reply = await signIn(target, user, password);
  assert.equal(reply.status, 303, reply.body);
  const session = setCookie(reply, 'ferry_session');
  assert.ok(session !== undefined);
  const cookie = `ferry_session=${session.value}`;
  const index = await consoleRequest(target, '/', {
    headers: { Cookie: cookie, Accept: 'text/html' },
  });
  assert.equal(index.status, 200);
  const m = /<meta name="ferry-csrf" content="([^"]+)">/.exec(index.body);
  assert.ok(m?.[1] !== undefined, 'index.html carries the CSRF token');
  return { cookie, csrf: m[1] };
}

/** A JSON-RPC WebSocket as the page opens it; calls by id, notifications collected. */
export interface ConsoleSocket {
  readonly ws: WebSocket;
  call(
    method: string,
    params?: unknown,
  ): Promise<{ result?: unknown; error?: { code: number; message: string } }>;
  /** Resolves with the first notification `method` whose params pass `match`. */
  notification(method: string, match?: (params: unknown) => boolean): Promise<unknown>;
  /** Frames with id null (errors the server sends before hanging up). */
  readonly fatal: { code: number; message: string }[];
  readonly closed: Promise<{ code: number; reason: string }>;
}

export interface SocketOptions {
  host?: string;
  csrf?: string;
  origin?: string;
  cookie?: string;
}

/** The WebSocket URL of `/rpc` on the console. */
function rpcUrl(target: ConsoleTarget, host: string | undefined, csrf: string | undefined): string {
  const url = new URL('/rpc', target.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (host !== undefined) url.searchParams.set('host', host);
  if (csrf !== undefined) url.searchParams.set('csrf', csrf);
  return url.toString();
}

/** The HTTP status an upgrade is refused with (fails if it is accepted). */
export async function refusedUpgrade(
  target: ConsoleTarget,
  options: SocketOptions,
): Promise<number> {
  const headers: Record<string, string> = { Origin: options.origin ?? new URL(target.url).origin };
  if (options.cookie !== undefined) headers['Cookie'] = options.cookie;
  const ws = new WebSocket(rpcUrl(target, options.host, options.csrf), {
    headers,
    ...(target.ca === undefined ? {} : { ca: target.ca }),
  });
  ws.on('error', () => undefined);
  const outcome = await Promise.race([
    once(ws, 'unexpected-response').then(([, res]) => (res as IncomingMessage).statusCode ?? 0),
    once(ws, 'open').then(() => -1),
  ]);
  ws.terminate();
  assert.notEqual(outcome, -1, 'the upgrade was accepted');
  return outcome;
}

/** Opens `/rpc` with the session (from the console's own origin unless told otherwise). */
export async function openSocket(
  target: ConsoleTarget,
  session: ConsoleSession,
  options: SocketOptions = {},
): Promise<ConsoleSocket> {
  const ws = new WebSocket(rpcUrl(target, options.host, options.csrf ?? session.csrf), {
    headers: {
      Origin: options.origin ?? new URL(target.url).origin,
      Cookie: options.cookie ?? session.cookie,
    },
    ...(target.ca === undefined ? {} : { ca: target.ca }),
  });
  const pending = new Map<number, (reply: Record<string, unknown>) => void>();
  const notifications: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const fatal: { code: number; message: string }[] = [];
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    if (typeof msg['id'] === 'number') pending.get(msg['id'])?.(msg);
    else if (msg['id'] === null) fatal.push(msg['error'] as { code: number; message: string });
    else notifications.push(msg);
    for (const w of waiters) w();
  });
  const closed = once(ws, 'close').then(([code, reason]) => ({
    code: code as number,
    reason: (reason as Buffer).toString('utf8'),
  }));
  await once(ws, 'open');
  let nextId = 1;
  return {
    ws,
    fatal,
    closed,
    call: (method, params = {}) => {
      const id = nextId++;
      const reply = new Promise<Record<string, unknown>>((resolve) => pending.set(id, resolve));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      return reply;
    },
    notification: (method, match = () => true) =>
      new Promise((resolve) => {
        const check = (): void => {
          const found = notifications.find((n) => n['method'] === method && match(n['params']));
          if (found === undefined) return;
          waiters.delete(check);
          resolve(found['params']);
        };
        waiters.add(check);
        check();
      }),
  };
}

/** A tiny stand-in for the built front end (the real one is another part's). */
export function fixtureWebDir(dir: string): string {
  const web = join(dir, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(
    join(web, 'index.html'),
    '<!doctype html><html><head><title>Ferry</title></head><body><div id="app"></div></body></html>\n',
  );
  writeFileSync(join(web, 'assets', 'index-abc123.js'), 'export const fixture = true;\n');
  return web;
}

/** The console URL of a daemon, from its 'ferryd ready' line. */
export async function consoleUrlOf(
  d: TestDaemon,
  timeoutMs = 15_000,
): Promise<{ url: string; address: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of d.log().split('\n')) {
      if (!line.includes('"ferryd ready"')) continue;
      const ready = JSON.parse(line) as { console?: string; consoleUrl?: string };
      assert.ok(ready.consoleUrl !== undefined && ready.console !== undefined, line);
      return { url: ready.consoleUrl, address: ready.console };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no 'ferryd ready' line: ${d.log().slice(-1500)}`);
}
