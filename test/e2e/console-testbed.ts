/**
 * A testbed whose first host serves the web console, with an account to sign in with and a
 * browser inside that host's network namespace: what every console test starts from.
 * @module
 */
import type { TestContext } from 'node:test';
import type { Testbed, TestbedHost, TestbedOptions } from '../helpers/testbed.js';
import { useTestbed } from '../helpers/testbed.js';
import { execOk } from '../helpers/remote.js';
import { launchBrowserIn, type Browser } from './browser.js';

/** The console on the first host: its own loopback (the default address), port 9090. */
/** The browser runs in a host's network namespace: testbeds without root have none. */
export const ROOT_ONLY =
  process.getuid?.() === 0 ? {} : { skip: 'needs root (network namespaces)' };

export const CONSOLE_CONFIG = 'console_enabled = 1\nconsole_port = 9090\n';
export const CONSOLE_URL = 'http://127.0.0.1:9090/';
/** The console account, made with `ferry auth-add` (the accounts qemu+tcp logins use). */
export const ACCOUNT = { user: 'operator', password: 'c0nsole-pass-e2e' } as const;

export interface ConsoleTestbed {
  tb: Testbed;
  /** The host serving the console (h1), where the browser runs. */
  h1: TestbedHost;
  hosts: readonly TestbedHost[];
  browser: Browser;
  /** The console's base URL as the browser reaches it. */
  base: string;
}

/**
 * Makes a testbed (no sshd: the console reaches other hosts over qemu+tcp) whose h1 serves the
 * console, adds the console account on h1 (ferryd reads the accounts file at each sign-in) and
 * launches the browser in h1's namespace; `extraConfig(host)` adds settings per host. The
 * testbed's ferryds accept qemu+tcp without a login (auth_tcp = "none"), so h1's ferryd
 * reaches the others as a peer without credentials, as the remote migration tests do.
 */
export async function useConsoleTestbed(
  t: TestContext,
  options: Omit<TestbedOptions, 'extraConfig'> & { extraConfig?: (host: string) => string } = {},
): Promise<ConsoleTestbed> {
  const { extraConfig, ...rest } = options;
  const tb = await useTestbed(t, {
    sshd: false,
    ...rest,
    extraConfig: (h) => (h === 'h1' ? CONSOLE_CONFIG : '') + (extraConfig?.(h) ?? ''),
  });
  const [h1] = tb.hosts;
  if (h1 === undefined) throw new Error('a console testbed needs a host');
  await execOk(h1, ['ferry', 'auth-add', ACCOUNT.user], `${ACCOUNT.password}\n`);
  const browser = await launchBrowserIn(t, h1);
  return { tb, h1, hosts: tb.hosts, browser, base: CONSOLE_URL };
}
