/**
 * The destination QEMU's NBD server for a storage copy (libvirt's NBD cookie): it listens on
 * its own port, exports each copied disk's format node writable, and stops before the guest
 * runs here, so nothing but the guest writes to the disks from then on.
 * @module
 */
import type { QmpClient } from '../../qmp/index.js';
import { diskNodeNames } from '../../qemu/disk-args.js';
import { MIGRATION_TLS_ID } from '../tls.js';

/** The export name of a copied disk, as the source asks for it. */
export function exportName(dev: string): string {
  return `ferry-${dev}`;
}

export async function startDiskExports(
  qmp: QmpClient,
  opts: { listen: string; port: number; devs: readonly string[]; tls: boolean },
): Promise<void> {
  await qmp.execute('nbd-server-start', {
    addr: { type: 'inet', data: { host: opts.listen, port: String(opts.port) } },
    ...(opts.tls ? { 'tls-creds': MIGRATION_TLS_ID } : {}),
  });
  for (const dev of opts.devs) {
    await qmp.execute('block-export-add', {
      type: 'nbd',
      id: exportName(dev),
      'node-name': diskNodeNames(dev).format,
      name: exportName(dev),
      writable: true,
    });
  }
}

/** Stops the server and its exports (QEMU closes every NBD export with it). */
export async function stopDiskExports(qmp: QmpClient): Promise<void> {
  await qmp.execute('nbd-server-stop');
}
