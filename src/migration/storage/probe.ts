/**
 * Proof that a disk the migration does not copy is the very same image on the destination,
 * never assumed from a path. For a file, the source writes a random marker next to the image
 * and the destination must read it back there (so the directory is the same storage) and find
 * the image at the same size. A block device or a network disk (NBD, NFS) cannot hold a
 * marker: both hosts read its size and the first 64 KiB at the protocol layer (a qcow2 file's
 * header, an export's first blocks) through QEMU's own drivers, and must agree.
 * @module
 */
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FerryError, messageOf } from '../../common/errors.js';
import type { DiskDef } from '../../domain/def.js';
import type { DiskProbe } from '../../rpc/schema/migration-disks.js';
import { imageInfo, imageName, readProtocolBytes } from './image.js';

const HEADER_BYTES = 64 * 1024;

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

async function headerOf(name: string): Promise<{ virtualSize: number; header: string }> {
  const [info, bytes] = await Promise.all([
    imageInfo(name, 'raw'),
    readProtocolBytes(name, HEADER_BYTES),
  ]);
  return { virtualSize: info.virtualSize, header: sha256(bytes) };
}

/**
 * The source's half: probes for `disks` and a cleanup that removes the markers (call it
 * whatever the destination answered).
 */
export async function probeSharedDisks(
  disks: readonly DiskDef[],
): Promise<{ probes: DiskProbe[]; cleanup: () => void }> {
  const markers: string[] = [];
  const cleanup = (): void => {
    for (const m of markers) rmSync(m, { force: true });
  };
  try {
    const probes: DiskProbe[] = [];
    for (const disk of disks) {
      const dev = disk.target.dev;
      if (disk.type === 'file' && disk.source !== undefined) {
        const nonce = randomBytes(16).toString('hex');
        const marker = join(dirname(disk.source), `.ferry-probe-${nonce}`);
        writeFileSync(marker, nonce, { mode: 0o600, flag: 'wx' });
        markers.push(marker);
        probes.push({
          kind: 'marker',
          dev,
          path: disk.source,
          marker,
          nonce,
          size: statSync(disk.source).size,
        });
      } else {
        const name = imageName(disk);
        probes.push({ kind: 'header', dev, name, ...(await headerOf(name)) });
      }
    }
    return { probes, cleanup };
  } catch (err) {
    cleanup();
    throw new FerryError('OPERATION_FAILED', `Cannot probe the guest's disks: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** Why the destination cannot use the disk of `probe`, or undefined when it is the same image. */
async function mismatch(probe: DiskProbe): Promise<string | undefined> {
  if (probe.kind === 'marker') {
    let seen: string;
    try {
      seen = readFileSync(probe.marker, 'utf8');
    } catch {
      return `'${probe.path}' is not on storage this host shares (the source's marker file is not in ${dirname(probe.path)} here)`;
    }
    if (seen !== probe.nonce) return `the marker next to '${probe.path}' differs here`;
    let size: number;
    try {
      size = statSync(probe.path).size;
    } catch {
      return `'${probe.path}' does not exist here`;
    }
    return size === probe.size
      ? undefined
      : `'${probe.path}' has another size here (${size} bytes, source ${probe.size})`;
  }
  let here: { virtualSize: number; header: string };
  try {
    here = await headerOf(probe.name);
  } catch (err) {
    return `this host cannot open it (${messageOf(err)})`;
  }
  if (here.virtualSize !== probe.virtualSize)
    return `it has another size here (${here.virtualSize} bytes, source ${probe.virtualSize})`;
  return here.header === probe.header
    ? undefined
    : 'its first 64 KiB differ here: not the same image';
}

/**
 * The destination's half: throws naming every disk this host does not share, with the way
 * out (copy it).
 */
export async function checkSharedDisks(probes: readonly DiskProbe[]): Promise<void> {
  const problems: string[] = [];
  for (const probe of probes) {
    const why = await mismatch(probe);
    if (why !== undefined) problems.push(`disk '${probe.dev}': ${why}`);
  }
  if (problems.length > 0)
    throw new FerryError(
      'OPERATION_INVALID',
      `Unsafe migration: ${problems.join('; ')}. Copy ${problems.length > 1 ? 'them' : 'it'} with --copy-storage-all (or --migrate-disks to choose)`,
    );
}

/**
 * The destination's check of disks the source means to copy: one this host already shares
 * would be copied onto itself, so the copy is refused.
 */
export async function checkNotShared(probes: readonly DiskProbe[]): Promise<void> {
  const same: string[] = [];
  for (const probe of probes) if ((await mismatch(probe)) === undefined) same.push(probe.dev);
  if (same.length > 0)
    throw new FerryError(
      'OPERATION_INVALID',
      `Disk ${same.map((d) => `'${d}'`).join(', ')} is on storage the destination shares: copying would overwrite the image with itself; migrate without --copy-storage-all (or leave ${same.length > 1 ? 'them' : 'it'} out of --migrate-disks)`,
    );
}
