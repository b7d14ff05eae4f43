/**
 * Real certificates for TLS tests, made by `ferry tls-setup` itself into a temporary
 * directory (removed when the test ends), and the files of one host arranged as a client's
 * `pkipath=DIR` (cacert.pem, clientcert.pem, clientkey.pem), or any part of them.
 * @module
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { FERRY, run } from './daemon.js';

export interface TestPki {
  /** tls-setup's output directory (OUT). */
  dir: string;
  /** OUT/HOST/pki: what ferryd's key_file, cert_file and ca_file point into (startDaemon tls.pki). */
  hostPki(host: string): string;
  /**
   * A pkipath directory with `host`'s client files: by default all three; `parts` picks some
   * (e.g. only the CA, to connect without a client certificate).
   */
  clientDir(host: string, parts?: readonly ('ca' | 'cert' | 'key')[]): string;
}

/** Runs `ferry tls-setup --dir TMP HOSTS…` (hosts as NAME[,IP]…) and returns the set. */
export async function makePki(t: TestContext, hosts: readonly string[]): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = await run(process.execPath, [
    FERRY,
    'tls-setup',
    '--dir',
    dir,
    '--days',
    '30',
    ...hosts,
  ]);
  assert.equal(out.code, 0, out.stderr);
  let n = 0;
  const hostPki = (host: string): string => join(dir, host, 'pki');
  return {
    dir,
    hostPki,
    clientDir: (host, parts = ['ca', 'cert', 'key']) => {
      const target = join(dir, `client-${host}-${n++}`);
      mkdirSync(target);
      const from = {
        ca: join(hostPki(host), 'CA', 'cacert.pem'),
        cert: join(hostPki(host), 'libvirt', 'clientcert.pem'),
        key: join(hostPki(host), 'libvirt', 'private', 'clientkey.pem'),
      };
      const to = { ca: 'cacert.pem', cert: 'clientcert.pem', key: 'clientkey.pem' };
      for (const part of parts) copyFileSync(from[part], join(target, to[part]));
      return target;
    },
  };
}
