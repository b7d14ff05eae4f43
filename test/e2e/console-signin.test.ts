/**
 * Signing in to the web console in a real browser (Chromium in testbed host h1's namespace,
 * the console on h1's loopback): a wrong password is refused with the alert; no page, API call
 * or RPC WebSocket works without a session; signing in shows the app; signing out ends the
 * session on the server (its cookie no longer works); repeated failures lock sign-in, even
 * with the right password.
 * @module
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newContext, shot, signIn, type InPage, type Page } from './browser.js';
import { ACCOUNT, ROOT_ONLY, useConsoleTestbed } from './console-testbed.js';

/** What a WebSocket to `path` on the page's own origin did: 'open', or 'closed CODE'. */
function tryWebSocket(page: Page, path: string): Promise<string> {
  return page.evaluate(
    (p) =>
      new Promise<string>((resolve) => {
        const { WebSocket, location } = globalThis as unknown as InPage;
        const ws = new WebSocket(new URL(p, location.href.replace(/^http/, 'ws')).href);
        ws.onopen = () => {
          ws.close();
          resolve('open');
        };
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      }),
    path,
  );
}

/** The status and body text of a fetch of `path` from the page, as a script would ask. */
function fetchFrom(page: Page, path: string): Promise<{ status: number; body: string }> {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { headers: { Accept: 'application/json' }, redirect: 'manual' });
    return { status: r.status, body: await r.text() };
  }, path);
}

/** The sign-in page's alert text, once shown. */
async function loginAlert(page: Page): Promise<string> {
  const alert = page.getByRole('alert');
  await alert.waitFor();
  return (await alert.textContent())?.trim() ?? '';
}

async function submitLogin(page: Page, user: string, password: string): Promise<void> {
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
}

void test(
  'console sign-in, refusals without a session, sign-out',
  { ...ROOT_ONLY, timeout: 180_000 },
  async (t) => {
    const { browser, base } = await useConsoleTestbed(t, { hosts: 1 });
    const url = (path: string): string => new URL(path, base).href;

    await t.test(
      'without a session: pages lead to /login, API calls and /rpc are refused',
      async () => {
        const ctx = await newContext(browser);
        const page = await ctx.newPage();
        const home = await page.goto(url('/'));
        assert.equal(new URL(page.url()).pathname, '/login', 'the app redirects to /login');
        assert.equal(home?.status(), 200);
        const deep = await page.goto(url('/index.html'));
        assert.equal(new URL(page.url()).pathname, '/login', `index.html: ${deep?.status()}`);
        await shot(page, 'signin-01-login-page');

        const api = await fetchFrom(page, '/index.html');
        assert.equal(api.status, 401);
        assert.deepEqual(JSON.parse(api.body), { error: 'sign-in required' });
        assert.match(await tryWebSocket(page, '/rpc?host=local&csrf=x'), /^closed /);
        await ctx.close();
      },
    );

    await t.test('a wrong password is refused with the alert', async () => {
      const ctx = await newContext(browser);
      const page = await ctx.newPage();
      await page.goto(url('/login'));
      await submitLogin(page, ACCOUNT.user, 'not-the-password');
      assert.equal(await loginAlert(page), 'Wrong user name or password.');
      assert.equal(new URL(page.url()).pathname, '/login');
      await shot(page, 'signin-02-wrong-password');
      // Still no session: the app is not served.
      await page.goto(url('/'));
      assert.equal(new URL(page.url()).pathname, '/login');
      await ctx.close();
    });

    await t.test('signing in shows the app; the RPC WebSocket needs its CSRF token', async () => {
      const ctx = await newContext(browser);
      const page = await ctx.newPage();
      await signIn(page, base, ACCOUNT.user, ACCOUNT.password);
      assert.equal(new URL(page.url()).pathname, '/');
      await page.getByRole('heading', { name: 'Ferry' }).waitFor();
      await page.getByRole('heading', { name: 'Hosts', level: 1 }).waitFor();
      await shot(page, 'signin-03-signed-in');
      const csrf = await page.locator('meta[name="ferry-csrf"]').getAttribute('content');
      assert.ok(csrf !== null && csrf.length >= 16, 'index.html carries the session’s CSRF token');
      // With the session cookie: the right token opens the socket, a wrong one is refused.
      assert.equal(await tryWebSocket(page, `/rpc?host=local&csrf=${csrf}`), 'open');
      assert.match(await tryWebSocket(page, '/rpc?host=local&csrf=wrong'), /^closed /);
      await ctx.close();
    });

    await t.test('signing out ends the session on the server', async () => {
      const ctx = await newContext(browser);
      const page = await ctx.newPage();
      await signIn(page, base, ACCOUNT.user, ACCOUNT.password);
      const session = (await ctx.cookies()).filter((c) => c.name === 'ferry_session');
      const [cookie] = session;
      assert.ok(cookie !== undefined && session.length === 1, 'one ferry_session cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      assert.equal(new URL(page.url()).search, '?ended=1');
      assert.equal(await loginAlert(page), 'Your session has ended; sign in again.');
      await shot(page, 'signin-04-signed-out');
      // The old cookie put back does not bring the session back.
      await ctx.addCookies(session);
      await page.goto(url('/'));
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.match(await tryWebSocket(page, '/rpc?host=local'), /^closed /);
      await ctx.close();
    });

    // Last: it locks this client address out of signing in for a while.
    await t.test('repeated failures lock sign-in, even for the right password', async () => {
      const ctx = await newContext(browser);
      const page = await ctx.newPage();
      await page.goto(url('/login'));
      const alerts: string[] = [];
      for (let i = 0; i < 6 && !/^Too many/.test(alerts.at(-1) ?? ''); i++) {
        await submitLogin(page, 'mallory', `guess-${i}`);
        alerts.push(await loginAlert(page));
      }
      assert.match(
        alerts.at(-1) ?? '',
        /^Too many failed sign-ins; try again in \d+ s\.$/,
        alerts.join(' | '),
      );
      await submitLogin(page, ACCOUNT.user, ACCOUNT.password);
      assert.match(await loginAlert(page), /^Too many failed sign-ins; try again in \d+ s\.$/);
      assert.equal(new URL(page.url()).pathname, '/login');
      await shot(page, 'signin-05-locked');
      await ctx.close();
    });
  },
);
