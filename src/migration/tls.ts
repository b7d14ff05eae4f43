/**
 * `ferry migrate --tls`: QEMU encrypts the migration stream itself with a tls-creds-x509
 * object over the host's certificates (libvirt's migrate_tls_x509_cert_dir, QEMU's file
 * names: ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem, client-key.pem).
 * The destination is the TLS server and requires the source's client certificate; the
 * source checks the destination's certificate against the host name it migrates to.
 * @module
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import type { QmpClient } from '../qmp/index.js';

/** libvirt's default (qemu.conf migrate_tls_x509_cert_dir falls back to default_tls_x509_cert_dir). */
export const DEFAULT_MIGRATION_TLS_DIR = '/etc/pki/qemu';
/** The object's id in QEMU, as libvirt names it. */
export const MIGRATION_TLS_ID = 'objMigrationTLS';

const FILES = {
  server: ['ca-cert.pem', 'server-cert.pem', 'server-key.pem'],
  client: ['ca-cert.pem', 'client-cert.pem', 'client-key.pem'],
} as const;

/** Throws OPERATION_INVALID naming the first certificate file QEMU would not find. */
export function checkMigrationTlsFiles(dir: string, endpoint: 'server' | 'client'): void {
  for (const name of FILES[endpoint]) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.R_OK);
    } catch {
      throw new FerryError(
        'OPERATION_INVALID',
        `TLS migration needs ${path} on this host (create the certificates with 'ferry tls-setup', or set migrate_tls_x509_cert_dir)`,
      );
    }
  }
}

/**
 * Creates the credentials object (replacing one left by an earlier job) and makes the next
 * migration use it; `hostname` is what the source checks the destination's certificate against.
 */
export async function enableMigrationTls(
  qmp: QmpClient,
  dir: string,
  endpoint: 'server' | 'client',
  hostname?: string,
): Promise<void> {
  checkMigrationTlsFiles(dir, endpoint);
  await qmp.execute('object-del', { id: MIGRATION_TLS_ID }).catch(() => undefined);
  await qmp.execute('object-add', {
    'qom-type': 'tls-creds-x509',
    id: MIGRATION_TLS_ID,
    dir,
    endpoint,
    'verify-peer': true,
  });
  await qmp.execute('migrate-set-parameters', {
    'tls-creds': MIGRATION_TLS_ID,
    'tls-hostname': hostname ?? '',
  });
}

/**
 * Plain TCP for the next migration. Needed even on a QEMU that never sent with TLS: one that
 * received a guest over TLS keeps that job's parameters, which its next migration would inherit.
 */
export async function disableMigrationTls(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate-set-parameters', { 'tls-creds': '', 'tls-hostname': '' });
}
