/**
 * The destination's images for copied disks: created like the source's (format, virtual size,
 * backing file for an incremental copy) when missing, accepted when a pre-created one matches,
 * refused when it does not, and only the ones created here removed when the job fails.
 * @module
 */
import { existsSync, rmSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { FerryError, messageOf } from '../../common/errors.js';
import { formatCapacity } from '../../common/capacity.js';
import type { ImageFormat } from '../../storage/qemu-img.js';
import type { CopiedDisk } from '../../rpc/schema/migration-disks.js';
import { createImage, imageInfo } from '../../storage/qemu-img.js';

/** Checks every target first, then creates the missing ones; returns the paths it created. */
export async function prepareTargets(disks: readonly CopiedDisk[]): Promise<string[]> {
  const toCreate = await checkTargets(disks);
  const created: string[] = [];
  try {
    for (const disk of toCreate) {
      await createImage({
        path: disk.path,
        format: disk.format,
        capacity: disk.virtualSize,
        ...(disk.backing === undefined
          ? {}
          : { backing: { path: disk.backing.file, format: disk.backing.format as ImageFormat } }),
      });
      created.push(disk.path);
    }
  } catch (err) {
    removeCreated(created);
    throw new FerryError(
      'OPERATION_FAILED',
      `Cannot create the destination's disk images: ${messageOf(err)}`,
      { cause: err },
    );
  }
  return created;
}

/**
 * Checks every target without changing anything (the preflight's storage check runs this
 * too): a pre-created image must match, a missing one needs room and its backing file.
 * Returns the targets to create.
 */
export async function checkTargets(disks: readonly CopiedDisk[]): Promise<CopiedDisk[]> {
  const toCreate: CopiedDisk[] = [];
  for (const disk of disks) {
    if (existsSync(disk.path)) await checkPrecreated(disk);
    else {
      checkRoom(disk);
      if (disk.backing !== undefined && !existsSync(disk.backing.file))
        throw new FerryError(
          'OPERATION_INVALID',
          `Disk '${disk.dev}': backing file '${disk.backing.file}' does not exist on the destination; --copy-storage-inc needs it shared (or use --copy-storage-all)`,
        );
      toCreate.push(disk);
    }
  }
  return toCreate;
}

async function checkPrecreated(disk: CopiedDisk): Promise<void> {
  const info = await imageInfo(disk.path).catch((err: unknown) => {
    throw new FerryError(
      'OPERATION_INVALID',
      `Disk '${disk.dev}': '${disk.path}' exists on the destination but is not a readable image (${messageOf(err)})`,
      { cause: err },
    );
  });
  if (info.format !== disk.format || info.virtualSize !== disk.virtualSize)
    throw new FerryError(
      'OPERATION_INVALID',
      `Disk '${disk.dev}': '${disk.path}' exists on the destination as ${info.format} of ${formatCapacity(info.virtualSize)}, but the source disk is ${disk.format} of ${formatCapacity(disk.virtualSize)}; remove it and Ferry creates a matching one`,
    );
}

function checkRoom(disk: CopiedDisk): void {
  const dir = dirname(disk.path);
  let free: number;
  try {
    const fs = statfsSync(dir);
    free = fs.bavail * fs.bsize;
  } catch {
    throw new FerryError(
      'OPERATION_INVALID',
      `Disk '${disk.dev}': directory '${dir}' does not exist on the destination`,
    );
  }
  if (free < disk.allocated)
    throw new FerryError(
      'OPERATION_INVALID',
      `Disk '${disk.dev}': not enough space for '${disk.path}' on the destination: the copy needs ${formatCapacity(disk.allocated)}, ${formatCapacity(free)} free`,
    );
}

/** Removes images this host created for a job that failed (never a pre-created one). */
export function removeCreated(paths: readonly string[]): void {
  for (const path of paths) rmSync(path, { force: true });
}
