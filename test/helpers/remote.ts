/**
 * Guests on testbed hosts: starting one, reading a host's list.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
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
