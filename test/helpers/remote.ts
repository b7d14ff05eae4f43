/**
 * Guests on testbed hosts: starting one, reading a host's list.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import { guestXml, waitForHeartbeat, type GuestXmlOptions } from './guest.js';

/** Defines and starts the test guest on `host`; returns its serial log (in the shared /tmp). */
export async function startGuestOn(
  t: TestContext,
  host: TestbedHost,
  o: Omit<GuestXmlOptions, 'serialLog'>,
  start = true,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `ferry-${o.name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const serial = join(dir, 'serial.log');
  const xml = join(dir, 'guest.xml');
  writeFileSync(xml, guestXml({ ...o, serialLog: serial }));
  await host.ferryOk('define', xml);
  if (start) {
    await host.ferryOk('start', o.name);
    await waitForHeartbeat(serial, { timeoutMs: 60_000 });
  }
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
