/**
 * The console's sign-in and sign-out: GET /login (the form, with a fresh login CSRF token in
 * its hidden field and in the ferry_login cookie), POST /login (CSRF pair, then the rate limit,
 * then the password against the accounts file, read at each attempt), POST /logout (the
 * session's CSRF token; ends the session and its WebSockets).
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listAccounts, verifyPassword } from '../auth/index.js';
import { messageOf } from '../common/errors.js';
import {
  LOGIN_COOKIE,
  SESSION_COOKIE,
  parseCookies,
  randomToken,
  sameToken,
  serializeCookie,
} from './cookies.js';
import { FormError, readForm } from './form-body.js';
import { ALERTS, renderLoginPage } from './login-page.js';
import type { SessionStore } from './sessions.js';
import type { SignInLimiter } from './sign-in-limiter.js';

export interface SignInLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SignInContext {
  readonly sessions: SessionStore;
  readonly limiter: SignInLimiter;
  /** auth_users_file: the same accounts as qemu+tcp logins. */
  readonly accountsFile: string;
  /** Served over HTTPS: cookies get Secure. */
  readonly secure: boolean;
  readonly hostname: string;
  readonly log: SignInLog;
}

const MAX_USER_LENGTH = 256;

/** The client's address, for the rate limit and the log. */
export function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/** Whether nobody can sign in: the accounts file is missing or empty. */
async function noAccounts(ctx: SignInContext): Promise<boolean> {
  try {
    return (await listAccounts(ctx.accountsFile)).length === 0;
  } catch (err) {
    ctx.log.error(
      { accountsFile: ctx.accountsFile, err: messageOf(err) },
      'console: the accounts file is unusable',
    );
    return false;
  }
}

/** Sends the sign-in page with a fresh login CSRF token. */
async function sendLoginPage(
  res: ServerResponse,
  ctx: SignInContext,
  status: number,
  page: { alert?: string | undefined; user?: string | undefined },
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  const csrf = randomToken();
  const html = renderLoginPage({
    csrf,
    alert: page.alert,
    user: page.user,
    noAccounts: await noAccounts(ctx),
    hostname: ctx.hostname,
  });
  res.writeHead(status, {
    ...extraHeaders,
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Set-Cookie': serializeCookie(LOGIN_COOKIE, csrf, { secure: ctx.secure, path: '/login' }),
  });
  res.end(html);
}

/** GET /login (`?ended=1` after sign-out or expiry). */
export function getLogin(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: SignInContext,
): Promise<void> {
  const ended = url.searchParams.get('ended') === '1';
  return sendLoginPage(res, ctx, 200, { alert: ended ? ALERTS.ended : undefined });
}

/** The request's form, or undefined after answering a bad one (too big, wrong type). */
async function formOrRefusal(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<URLSearchParams | undefined> {
  try {
    return await readForm(req);
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    res.writeHead(err.status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(err.message);
    return undefined;
  }
}

/** POST /login. */
export async function postLogin(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: SignInContext,
): Promise<void> {
  const form = await formOrRefusal(req, res);
  if (form === undefined) return;
  const peer = clientAddress(req);
  const user = (form.get('user') ?? '').slice(0, MAX_USER_LENGTH);
  const password = form.get('password') ?? '';
  const cookie = parseCookies(req.headers.cookie).get(LOGIN_COOKIE);
  if (!sameToken(cookie, form.get('csrf') ?? undefined)) {
    ctx.log.warn({ user, peer }, 'console sign-in refused: missing or wrong login CSRF token');
    await sendLoginPage(res, ctx, 403, { alert: ALERTS.formExpired, user });
    return;
  }
  const keys = [`addr:${peer}`, `user:${user}`];
  const limit = ctx.limiter.check(keys);
  if (limit.locked) {
    ctx.log.warn(
      { user, peer, retryAfterS: limit.retryAfterS },
      'console sign-in refused: too many failures',
    );
    await sendLoginPage(
      res,
      ctx,
      429,
      { alert: ALERTS.tooMany(limit.retryAfterS), user },
      {
        'Retry-After': String(limit.retryAfterS),
      },
    );
    return;
  }
  let ok = false;
  try {
    ok = user !== '' && (await verifyPassword(user, password, { file: ctx.accountsFile }));
  } catch (err) {
    // The administrator's problem (a missing or broken file), logged; the client sees a failure.
    ctx.log.error(
      { user, peer, err: messageOf(err) },
      'console sign-in: cannot check the password',
    );
  }
  if (!ok) {
    ctx.limiter.fail(keys);
    ctx.log.warn({ user, peer }, 'console sign-in failed');
    await sendLoginPage(res, ctx, 401, { alert: ALERTS.wrongPassword, user });
    return;
  }
  ctx.limiter.succeed(keys);
  const session = ctx.sessions.create(user);
  ctx.log.info({ user, peer }, 'console sign-in');
  res.writeHead(303, {
    Location: '/',
    'Cache-Control': 'no-store',
    'Set-Cookie': [
      serializeCookie(SESSION_COOKIE, session.token, { secure: ctx.secure }),
      serializeCookie(LOGIN_COOKIE, '', { secure: ctx.secure, path: '/login', maxAge: 0 }),
    ],
  });
  res.end();
}

/** POST /logout: the form carries the session's CSRF token. */
export async function postLogout(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: SignInContext,
): Promise<void> {
  const form = await formOrRefusal(req, res);
  if (form === undefined) return;
  const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  const session = ctx.sessions.use(token);
  if (session === undefined) {
    res.writeHead(303, { Location: '/login?ended=1', 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  if (!sameToken(session.csrf, form.get('csrf') ?? undefined)) {
    ctx.log.warn(
      { user: session.user, peer: clientAddress(req) },
      'console sign-out refused: wrong CSRF token',
    );
    res.writeHead(403, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid CSRF token' }));
    return;
  }
  ctx.sessions.end(session.token);
  ctx.log.info({ user: session.user, peer: clientAddress(req) }, 'console sign-out');
  res.writeHead(303, {
    Location: '/login?ended=1',
    'Cache-Control': 'no-store',
    'Set-Cookie': serializeCookie(SESSION_COOKIE, '', { secure: ctx.secure, maxAge: 0 }),
  });
  res.end();
}
