/**
 * Where TLS certificates live, libvirt's layout: under /etc/pki for the system (root), under
 * ~/.pki/libvirt for other users, or all in one directory named by the URI's `pkipath`.
 * QEMU's own layout (for `migrate --tls` with tls-creds-x509) sits beside it in /etc/pki/qemu.
 * @module
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SYSTEM_PKI_ROOT = '/etc/pki';

/** Files below a pki root (/etc/pki), by role: libvirt's names and QEMU's. */
export const PKI_FILES = {
  caCert: 'CA/cacert.pem',
  serverCert: 'libvirt/servercert.pem',
  serverKey: 'libvirt/private/serverkey.pem',
  clientCert: 'libvirt/clientcert.pem',
  clientKey: 'libvirt/private/clientkey.pem',
  qemuCaCert: 'qemu/ca-cert.pem',
  qemuServerCert: 'qemu/server-cert.pem',
  qemuServerKey: 'qemu/server-key.pem',
  qemuClientCert: 'qemu/client-cert.pem',
  qemuClientKey: 'qemu/client-key.pem',
} as const;

export type PkiRole = keyof typeof PKI_FILES;

/** A private key among {@link PKI_FILES}: written mode 0600. */
export function isKeyRole(role: PkiRole): boolean {
  return /Key$/.test(role);
}

/** ferryd's defaults for key_file, cert_file and ca_file (libvirtd's). */
export const SERVER_PKI_DEFAULTS = {
  keyFile: join(SYSTEM_PKI_ROOT, PKI_FILES.serverKey),
  certFile: join(SYSTEM_PKI_ROOT, PKI_FILES.serverCert),
  caFile: join(SYSTEM_PKI_ROOT, PKI_FILES.caCert),
} as const;

/** The files a TLS client presents and trusts. */
export interface ClientPkiPaths {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * The client's files: `pkipath=DIR` → DIR/{cacert,clientcert,clientkey}.pem; root → the
 * system files under /etc/pki; anyone else → ~/.pki/libvirt/{cacert,clientcert,clientkey}.pem.
 */
export function clientPkiPaths(
  pkipath: string | undefined,
  uid: number = process.getuid?.() ?? 0,
  home: string = homedir(),
): ClientPkiPaths {
  const dir = pkipath ?? (uid === 0 ? undefined : join(home, '.pki', 'libvirt'));
  if (dir === undefined) {
    return {
      ca: join(SYSTEM_PKI_ROOT, PKI_FILES.caCert),
      cert: join(SYSTEM_PKI_ROOT, PKI_FILES.clientCert),
      key: join(SYSTEM_PKI_ROOT, PKI_FILES.clientKey),
    };
  }
  return {
    ca: join(dir, 'cacert.pem'),
    cert: join(dir, 'clientcert.pem'),
    key: join(dir, 'clientkey.pem'),
  };
}
