/**
 * The console's cookies: reading the Cookie header and writing Set-Cookie values with the
 * flags every console cookie carries (HttpOnly, SameSite=Strict, Secure under HTTPS).
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** The session cookie: a 256-bit random token naming an in-memory session. */
export const SESSION_COOKIE = 'ferry_session';
/** The sign-in form's CSRF cookie (double submit: the same value is in the form). */
export const LOGIN_COOKIE = 'ferry_login';

/** A fresh 256-bit random token, base64url (session ids, CSRF tokens). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The cookies of a Cookie header; the first of two with the same name wins, as browsers send. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
      value = value.slice(1, -1);
    if (name !== '' && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export interface CookieOptions {
  /** Add `Secure` (the console is served over HTTPS). */
  secure: boolean;
  /** Path the browser sends it to (default `/`). */
  path?: string;
  /** Seconds until it expires; 0 deletes it. Absent: a session cookie. */
  maxAge?: number;
}

/** A Set-Cookie value; `value` must be a token (base64url), which needs no quoting. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${options.path ?? '/'}`, 'HttpOnly', 'SameSite=Strict'];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${options.maxAge}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Whether two tokens are equal, in time that does not depend on where they differ. */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a === '' || b === '') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
