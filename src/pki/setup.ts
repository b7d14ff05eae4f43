/**
 * `ferry tls-setup`: one CA and, for each host, its server and client certificates in
 * libvirt's /etc/pki layout and QEMU's, ready to copy (or `--install`) onto the host.
 *
 * ```text
 * OUT/ca/cacert.pem, OUT/ca/private/cakey.pem          the CA (keep its key safe)
 * OUT/HOST/pki/CA/cacert.pem
 * OUT/HOST/pki/libvirt/{servercert,clientcert}.pem
 * OUT/HOST/pki/libvirt/private/{serverkey,clientkey}.pem
 * OUT/HOST/pki/qemu/{ca-cert,server-cert,server-key,client-cert,client-key}.pem
 * ```
 * @module
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';
import { issueCertificate, makeCa, type KeyPair } from './openssl.js';
import { isKeyRole, PKI_FILES, type PkiRole } from './paths.js';

/** A host as `name[,name-or-ip]…`: the first name is its CN and directory; all are SANs. */
export interface HostSpec {
  readonly name: string;
  readonly altNames: readonly string[];
}

export const CA_CERT = 'ca/cacert.pem';
export const CA_KEY = 'ca/private/cakey.pem';
const HOST_NAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Parses `name[,ip]…`; a bad name or address is an INVALID_ARG error naming it. */
export function parseHostSpec(text: string): HostSpec {
  const names = text.split(',').map((n) => n.trim());
  for (const n of names) {
    if (n === '' || (isIP(n) === 0 && !HOST_NAME.test(n)))
      throw new FerryError(
        'INVALID_ARG',
        `Invalid host '${text}': '${n}' is neither a host name nor an IP address (expected NAME[,IP]…)`,
      );
  }
  const [name = ''] = names;
  if (name === 'ca') throw new FerryError('INVALID_ARG', "Invalid host 'ca': OUT/ca holds the CA");
  return { name, altNames: [...new Set(names)] };
}

/** The DN subject of a host's certificates: C=GB,O=Ferry,CN=<host>. */
export function hostSubject(name: string): [string, string][] {
  return [
    ['C', 'GB'],
    ['O', 'Ferry'],
    ['CN', name],
  ];
}

async function writePem(path: string, text: string, secret: boolean): Promise<void> {
  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true, mode: /private$/.test(dir) ? 0o700 : 0o755 });
    await writeFile(path, text, { mode: secret ? 0o600 : 0o644 });
    // writeFile keeps the mode of a file that already exists.
    await chmod(path, secret ? 0o600 : 0o644);
  } catch (err) {
    throw new FerryError('SYSTEM_ERROR', `Cannot write '${path}': ${describeErrno(err)}`, {
      cause: err,
    });
  }
}

export interface TlsSetupOptions {
  /** Output directory (OUT). */
  dir: string;
  hosts: readonly HostSpec[];
  /** Replace a CA that already exists in OUT. */
  force: boolean;
  /** Validity of host certificates in days (the CA's is ten years). */
  days: number;
}

/** The files of one host's set, by role, as PEM text. */
type HostFiles = Record<PkiRole, string>;

function hostFiles(ca: KeyPair, server: KeyPair, client: KeyPair): HostFiles {
  return {
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    qemuCaCert: ca.cert,
    qemuServerCert: server.cert,
    qemuServerKey: server.key,
    qemuClientCert: client.cert,
    qemuClientKey: client.key,
  };
}

/**
 * Makes the CA and every host's set under `options.dir`. Refuses (before writing anything)
 * when a CA is there already, unless `force`, and when a host is named twice.
 */
export async function createTlsSet(options: TlsSetupOptions): Promise<{ hosts: string[] }> {
  const { dir, hosts, days } = options;
  if (hosts.length === 0) throw new FerryError('INVALID_ARG', 'Name at least one host');
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h.name)) throw new FerryError('INVALID_ARG', `Host '${h.name}' is named twice`);
    seen.add(h.name);
  }
  if (existsSync(join(dir, CA_CERT)) && !options.force)
    throw new FerryError(
      'OPERATION_INVALID',
      `A CA already exists in '${join(dir, 'ca')}'; pass --force to replace it (every host then needs its new certificates)`,
    );
  const ca = await makeCa(
    [
      ['C', 'GB'],
      ['O', 'Ferry'],
      ['CN', 'Ferry CA'],
    ],
    3650,
  );
  await writePem(join(dir, CA_KEY), ca.key, true);
  await writePem(join(dir, CA_CERT), ca.cert, false);
  for (const host of hosts) {
    const subject = hostSubject(host.name);
    const server = await issueCertificate(ca, {
      subject,
      altNames: host.altNames,
      use: 'server',
      days,
    });
    const client = await issueCertificate(ca, { subject, altNames: [], use: 'client', days });
    const files = hostFiles(ca, server, client);
    for (const role of Object.keys(PKI_FILES) as PkiRole[]) {
      await writePem(join(dir, host.name, 'pki', PKI_FILES[role]), files[role], isKeyRole(role));
    }
  }
  return { hosts: hosts.map((h) => h.name) };
}

/**
 * Copies host `name`'s set from `dir` into `pkiRoot` (/etc/pki), keys 0600. Refuses when
 * pkiRoot already trusts a different CA, unless `force`. Returns the files written.
 */
export async function installHostSet(
  dir: string,
  name: string,
  pkiRoot: string,
  force: boolean,
): Promise<string[]> {
  const from = join(dir, name, 'pki');
  if (!existsSync(join(from, PKI_FILES.caCert)))
    throw new FerryError('INVALID_ARG', `No certificates for host '${name}' in '${dir}'`);
  const caTarget = join(pkiRoot, PKI_FILES.caCert);
  const newCa = await readFile(join(from, PKI_FILES.caCert), 'utf8');
  const oldCa = await readFile(caTarget, 'utf8').catch(() => undefined);
  if (oldCa !== undefined && oldCa !== newCa && !force)
    throw new FerryError(
      'OPERATION_INVALID',
      `'${caTarget}' holds a different CA; pass --force to replace it (hosts of the old CA are then no longer trusted)`,
    );
  const written: string[] = [];
  for (const role of Object.keys(PKI_FILES) as PkiRole[]) {
    const target = join(pkiRoot, PKI_FILES[role]);
    await writePem(target, await readFile(join(from, PKI_FILES[role]), 'utf8'), isKeyRole(role));
    written.push(target);
  }
  return written;
}
