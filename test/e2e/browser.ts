/**
 * The browser of the console tests: Debian's Chromium (/usr/bin/chromium), headless, driven by
 * playwright-core, run INSIDE a testbed host's network namespace (the root namespace cannot
 * reach a testbed host, and the console listens on the host's loopback), with every start-up
 * and background request Chromium would make switched off. Pages at desktop (1280×800) and
 * phone (390×844) size; signing in; screenshots into test-artifacts/.
 * @module
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestbedHost } from '../../src/testbed/index.js';
import { REPO } from '../helpers/guest.js';

export type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

/** Debian's Chromium (setup.sh --test installs it). */
export const CHROMIUM = '/usr/bin/chromium';
/** Where screenshots go (gitignored; CI keeps them as artifacts). */
export const ARTIFACTS = join(REPO, 'test-artifacts');

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/**
 * Flags beyond Playwright's own (which already turn off background networking, component
 * updates, first-run, default-browser checks, sync…): no proxy lookup, no DNS prefetch, no
 * safe-browsing/phishing/reporting traffic, and a resolver that resolves no name but localhost
 * (the console is reached by its loopback address), so nothing can go anywhere by name.
 */
const OFFLINE_FLAGS = [
  '--no-proxy-server',
  '--dns-prefetch-disable',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--safebrowsing-disable-auto-update',
  '--disable-crash-reporter',
  '--disable-gpu',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

/**
 * Launches Chromium inside `host`'s network namespace: a wrapper script in a temporary
 * directory (`ip netns exec NS chromium "$@"`) is Playwright's executable. The browser is
 * closed and the directory removed in `t.after`, even when the test failed.
 */
export async function launchBrowserIn(t: TestContext, host: TestbedHost): Promise<Browser> {
  const netns = host.netns;
  assert.ok(netns !== undefined, `${host.name} has no network namespace (run the tests as root)`);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-browser-'));
  const launched: { browser?: Browser } = {};
  t.after(async () => {
    await launched.browser?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const wrapper = join(dir, 'chromium-in-netns');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec '${netns}' ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({
    executablePath: wrapper,
    headless: true,
    args: OFFLINE_FLAGS,
    // Chromium's profile and crash files in our directory, removed with it.
    env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_CACHE_HOME: dir },
    timeout: 60_000,
  });
  launched.browser = browser;
  return browser;
}

/** A fresh context (its own cookies: signed out) at `size`, its pages failing in 30 s. */
export async function newContext(
  browser: Browser,
  size: { width: number; height: number } = DESKTOP,
): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: size, serviceWorkers: 'block' });
  ctx.setDefaultTimeout(30_000);
  return ctx;
}

/** Signs in on the console's /login page at `base`; waits for the app's "Signed in as USER". */
export async function signIn(
  page: Page,
  base: string,
  user: string,
  password: string,
): Promise<void> {
  await page.goto(new URL('/login', base).href);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${user}`).waitFor();
}

/** Saves a full-page PNG of `page` as test-artifacts/NAME.png and returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Whether the page scrolls sideways (it must not, at any supported width). */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const root = (globalThis as unknown as InPage).document.documentElement;
    return root.scrollWidth > root.clientWidth;
  });
}

/**
 * The few browser globals the tests' in-page functions use: the tests are type-checked
 * without the DOM library (they run in Node), the functions in the page.
 */
export interface InPage {
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
  location: { href: string };
  WebSocket: new (url: string) => {
    onopen: (() => void) | null;
    onclose: ((e: { code: number }) => void) | null;
    close(): void;
  };
}
