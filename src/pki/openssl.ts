/**
 * Certificates made with the `openssl` command (Debian's openssl package): a CA, and server
 * or client certificates it signs, with the extensions libvirt and QEMU check (basic
 * constraints, key usage digitalSignature + keyEncipherment, extended key usage serverAuth or
 * clientAuth, DNS/IP subject alternative names).
 * @module
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';

/** A key and its certificate, PEM text. */
export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

/** What a certificate is for. */
export type CertificateUse = 'server' | 'client';

export interface CertificateRequest {
  /** Subject attributes in certificate order, e.g. [['C','GB'],['O','Ferry'],['CN','host1']]. */
  readonly subject: readonly (readonly [string, string])[];
  /** DNS names and IP addresses for subjectAltName (server certificates). */
  readonly altNames: readonly string[];
  readonly use: CertificateUse;
  readonly days: number;
}

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', [...args], { cwd }, (err, _stdout, stderr) => {
      if (err === null) {
        resolve();
        return;
      }
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const why = missing
        ? 'openssl is not installed (apt-get install openssl)'
        : (stderr.trim().split('\n').at(-1) ?? err.message);
      reject(
        new FerryError('OPERATION_FAILED', `openssl ${args[0] ?? ''} failed: ${why}`, {
          cause: err,
        }),
      );
    });
  });
}

/** `/C=GB/O=Ferry/CN=host` for openssl -subj, with '/' and '\' escaped. */
function subjectArg(subject: CertificateRequest['subject']): string {
  return subject.map(([k, v]) => `/${k}=${v.replace(/[\\/]/g, '\\$&')}`).join('');
}

/** Runs `fn` in a private temporary directory, removed afterwards. */
async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-pki-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const NEW_KEY = ['-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem'];

/** Makes a self-signed CA valid for `days`. */
export function makeCa(subject: CertificateRequest['subject'], days: number): Promise<KeyPair> {
  return inTempDir(async (dir) => {
    await openssl(
      [
        'req',
        '-x509',
        ...NEW_KEY,
        '-out',
        'cert.pem',
        '-days',
        String(days),
        '-subj',
        subjectArg(subject),
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    return readKeyPair(dir);
  });
}

/** The key.pem and cert.pem openssl wrote in `dir`. */
async function readKeyPair(dir: string): Promise<KeyPair> {
  return {
    key: await readFile(join(dir, 'key.pem'), 'utf8'),
    cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
  };
}

/** The extension section for a certificate of `use` with `altNames`. */
function extensions(req: CertificateRequest): string {
  const lines = [
    '[v3]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    `extendedKeyUsage = ${req.use === 'server' ? 'serverAuth' : 'clientAuth'}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ];
  if (req.altNames.length > 0) {
    const names = req.altNames.map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`));
    lines.push(`subjectAltName = ${names.join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

/** Makes a key and a certificate for it signed by `ca`. */
export function issueCertificate(ca: KeyPair, req: CertificateRequest): Promise<KeyPair> {
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'ca.pem'), ca.cert);
    await writeFile(join(dir, 'ca-key.pem'), ca.key, { mode: 0o600 });
    await writeFile(join(dir, 'ext.cnf'), extensions(req));
    await openssl(
      ['req', '-new', ...NEW_KEY, '-out', 'req.pem', '-subj', subjectArg(req.subject)],
      dir,
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        'req.pem',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca-key.pem',
        // A random serial: certificates of one CA must not share one, and no serial file to keep.
        '-set_serial',
        `0x${randomBytes(16)
          .toString('hex')
          .replace(/^[89a-f]/, '7')}`,
        '-days',
        String(req.days),
        '-sha256',
        '-extfile',
        'ext.cnf',
        '-extensions',
        'v3',
        '-out',
        'cert.pem',
      ],
      dir,
    );
    return readKeyPair(dir);
  });
}
