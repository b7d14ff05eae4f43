/**
 * Which of a guest's disks a migration copies and which it expects to find shared, from the
 * definition and the flags (libvirt's qemuMigrationAnyCopyDisk): with --copy-storage-all or
 * --copy-storage-inc every writable disk with a source is copied, or only those --migrate-disks
 * names; read-only and shareable disks and empty cdroms are never copied.
 * @module
 */
import { FerryError } from '../../common/errors.js';
import type { DiskDef, DomainDef } from '../../domain/def.js';
import type { MigrateFlags } from '../../rpc/schema/migration.js';

export interface DiskPlan {
  /** Disks mirrored (live) or copied (offline) to the destination. */
  copy: DiskDef[];
  /** Disks the destination must reach itself: proved the same image before anything starts. */
  shared: DiskDef[];
  /** How a copy starts: 'full' copies everything, 'top' only a qcow2 overlay's own clusters. */
  sync: 'full' | 'top';
}

function hasSource(disk: DiskDef): boolean {
  return disk.source !== undefined || disk.network !== undefined || disk.volume !== undefined;
}

/** Why a disk is never copied, or undefined when it can be. */
function notCopyable(disk: DiskDef): string | undefined {
  if (!hasSource(disk) || disk.device !== 'disk') return 'empty or a cdrom';
  if (disk.readonly) return 'read-only';
  if (disk.shareable) return 'shareable';
  // A network disk is reached the same way from every host; copying it onto itself would
  // destroy it.
  if (disk.network !== undefined)
    return `a network disk (${disk.network.protocol}), shared by nature`;
  return undefined;
}

export function planDisks(def: DomainDef, flags: MigrateFlags): DiskPlan {
  const copying = flags.copyStorageAll || flags.copyStorageInc;
  const named = flags.migrateDisks;
  const byDev = new Map(def.devices.disks.map((d) => [d.target.dev, d]));
  for (const dev of named ?? []) {
    const disk = byDev.get(dev);
    if (disk === undefined)
      throw new FerryError(
        'INVALID_ARG',
        `invalid argument: disk target ${dev} not found in domain '${def.name}'`,
      );
    const why = notCopyable(disk);
    if (why !== undefined)
      throw new FerryError(
        'INVALID_ARG',
        `invalid argument: disk '${dev}' cannot be copied: it is ${why}`,
      );
  }
  const copy = copying
    ? def.devices.disks.filter(
        (d) =>
          notCopyable(d) === undefined && (named === undefined || named.includes(d.target.dev)),
      )
    : [];
  const shared = def.devices.disks.filter((d) => hasSource(d) && !copy.includes(d));
  if (flags.copyStorageInc) {
    for (const disk of copy) {
      if (disk.driver.type !== 'qcow2')
        throw new FerryError(
          'INVALID_ARG',
          `Disk '${disk.target.dev}' is ${disk.driver.type}: --copy-storage-inc copies a qcow2 overlay over a shared backing file (use --copy-storage-all)`,
        );
    }
  }
  return { copy, shared, sync: flags.copyStorageInc ? 'top' : 'full' };
}
