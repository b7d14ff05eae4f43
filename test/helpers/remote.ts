/**
 * Guests on testbed hosts: starting one, reading a host's list.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Testbed, TestbedHost } from '../../src/testbed/index.js';
import { guestXml, type GuestXmlOptions } from './guest.js';
import { startGuest } from './migration.js';

/**
 * Defines the test guest on `host` and (unless `start` is false) starts it as startGuest does.
 * Its files live in a directory of the shared /tmp, which testbed hosts allow guests to use,
 * so the serial log follows the guest from host to host. Returns the serial log's path.
 */
export async function startGuestOn(
  t: TestContext,
  host: TestbedHost,
  o: Omit<GuestXmlOptions, 'serialLog'>,
  start = true,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `ferry-${o.name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = { dir, ferryOk: (...args: string[]) => host.ferryOk(...args) };
  if (start) return startGuest(files, o);
  const serial = join(dir, `${o.name}-serial.log`);
  const xml = join(dir, `${o.name}.xml`);
  writeFileSync(xml, guestXml({ ...o, serialLog: serial }));
  await host.ferryOk('define', xml);
  return serial;
}

/** `ferry list --all` of `host` as `[name, state]` rows. */
export async function listOf(host: TestbedHost, uri?: string): Promise<[string, string][]> {
  const out = await host.ferryOk(...(uri === undefined ? [] : ['-c', uri]), 'list', '--all');
  return out
    .split('\n')
    .slice(2)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [, name = '', ...state] = l.trim().split(/\s+/);
      return [name, state.join(' ')];
    });
}

/** Runs `argv` inside `h` (stdin `input`) and returns its stdout; fails unless it exits 0. */
export async function execOk(h: TestbedHost, argv: string[], input?: string): Promise<string> {
  const r = await h.exec(argv, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `${argv.join(' ')} on ${h.name}: ${r.stderr}`);
  return r.stdout;
}

/** ferryd.conf lines for {@link secureHosts}: SASL logins on TCP, and a TLS listener. */
export const SECURE_CONFIG = 'auth_tcp = "sasl"\nlisten_tls = 1\n';

/**
 * Makes every host of `tb` (created with `ferryd: false` and {@link SECURE_CONFIG}) a host
 * that requires a SASL login on TCP and a client certificate on TLS: certificates of one CA
 * from `ferry tls-setup` (written under `pkiDir`, installed in each host's own /etc/pki), the
 * account `user` from `ferry auth-add`, an /etc/ferry/auth.conf holding it so each ferryd can
 * log in to the others, then each host's ferryd started.
 */
export async function secureHosts(
  tb: Testbed,
  pkiDir: string,
  account = { user: 'migrator', password: 'n0t-a-secret' },
): Promise<void> {
  const [first] = tb.hosts;
  if (first === undefined) return;
  const names = tb.hosts.map((h) => `${h.name},${h.address}`);
  await execOk(first, ['ferry', 'tls-setup', '--dir', pkiDir, ...names]);
  for (const h of tb.hosts) {
    // Each host's own name makes --install pick its set; /etc/pki is the host's own.
    await execOk(h, ['ferry', 'tls-setup', '--dir', pkiDir, '--install']);
    await execOk(h, ['ferry', 'auth-add', account.user], `${account.password}\n`);
    writeFileSync(
      join(h.paths.etcFerry, 'auth.conf'),
      `[credentials-migration]\nauthname=${account.user}\npassword=${account.password}\n\n[auth-libvirt-default]\ncredentials=migration\n`,
      { mode: 0o600 },
    );
    await h.startFerryd();
  }
}
