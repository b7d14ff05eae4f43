/**
 * QEMU 7.2's NFS driver learns a file's size once, when it opens it, and never again (it has
 * no getlength; an incoming QEMU's re-activation does not ask either). A destination QEMU
 * opens the guest's images when it starts, before the migration; a qcow2 image the source
 * grows meanwhile (every newly allocated cluster is appended) then reads as zeros past the
 * old end on the destination — the guest's just-written blocks come back empty (seen by the
 * test guest's read-back right after the switch-over). Before the guest runs there, each NFS
 * disk gets a freshly opened NFS node (the file's size as it is now), swapped in under its
 * format node with blockdev-reopen, and the old node is dropped.
 * @module
 */
import { FerryError, messageOf } from '../../common/errors.js';
import type { DomainDef } from '../../domain/def.js';
import type { QmpClient } from '../../qmp/index.js';
import { diskNodeNames, storageNode } from '../../qemu/disk-args.js';

interface NamedNode {
  'node-name': string;
  drv: string;
}

export async function refreshNfsDisks(qmp: QmpClient, def: DomainDef): Promise<void> {
  const disks = def.devices.disks.filter((d) => d.network?.protocol === 'nfs');
  if (disks.length === 0) return;
  const nodes = await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true });
  for (const disk of disks) {
    const names = diskNodeNames(disk.target.dev);
    const old = nodes.find((n) => n.drv === 'nfs' && n['node-name'].startsWith(names.storage));
    if (old === undefined) continue;
    const readOnly = disk.readonly || disk.device === 'cdrom';
    const fresh = `${names.storage}-${Date.now().toString(36)}`;
    const node = storageNode(disk, readOnly, fresh);
    if (node === undefined) continue;
    try {
      await qmp.execute('blockdev-add', node);
      await qmp.execute('blockdev-reopen', {
        options: [
          {
            driver: disk.driver.type,
            'node-name': names.format,
            file: fresh,
            'read-only': readOnly,
          },
        ],
      });
      await qmp.execute('blockdev-del', { 'node-name': old['node-name'] });
    } catch (err) {
      throw new FerryError(
        'OPERATION_FAILED',
        `Cannot reopen NFS disk '${disk.target.dev}' at its current size: ${messageOf(err)}`,
        { cause: err },
      );
    }
  }
}
