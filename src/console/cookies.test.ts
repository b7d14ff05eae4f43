import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseCookies, randomToken, sameToken, serializeCookie } from './cookies.js';

void test('parseCookies() reads a Cookie header; the first of a name wins', () => {
  const c = parseCookies('ferry_session=abc; theme="dark" ;ferry_session=evil; junk; =x');
  assert.equal(c.get('ferry_session'), 'abc');
  assert.equal(c.get('theme'), 'dark');
  assert.equal(c.size, 2);
  assert.equal(parseCookies(undefined).size, 0);
});

void test('serializeCookie() always sets HttpOnly and SameSite=Strict, and Secure under HTTPS', () => {
  assert.equal(
    serializeCookie('ferry_session', 'tok', { secure: false }),
    'ferry_session=tok; Path=/; HttpOnly; SameSite=Strict',
  );
  assert.equal(
    serializeCookie('ferry_login', '', { secure: true, path: '/login', maxAge: 0 }),
    'ferry_login=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0; Secure',
  );
});

void test('sameToken() compares tokens; empty or missing never matches', () => {
  const t = randomToken();
  assert.equal(sameToken(t, t.slice(0)), true);
  assert.equal(sameToken(t, randomToken()), false);
  assert.equal(sameToken(t, t.slice(1)), false);
  assert.equal(sameToken('', ''), false);
  assert.equal(sameToken(undefined, t), false);
  assert.equal(sameToken(t, undefined), false);
});
