/**
 * Proof that a disk the migration does not copy is the very same image on the destination,
 * never assumed from a path:
 * - a file: the source writes a random marker next to the image; the destination must read it
 *   back there (the directory is the same storage) and find the image at the same size;
 * - an NFS disk: the same with a marker file created on the server through QEMU's NFS client;
 * - a disk on a Ferry NBD export host: the export's description (pool UUID and volume) and
 *   size, as each host lists them from the server;
 * - anything else (a block device, another NBD server): both hosts read its size and first
 *   64 KiB through QEMU's drivers and must agree (a guest writing there makes this fail, on
 *   the safe side).
 * @module
 */
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FerryError, messageOf } from '../../common/errors.js';
import type { DiskDef } from '../../domain/def.js';
import type { DiskProbe } from '../../rpc/schema/migration-disks.js';
import { posix } from 'node:path';
import { NBD_DEFAULT_PORT } from '../../qemu/disk-args.js';
import { listNbdExports } from '../../storage/nbd-list.js';
import { deleteVolume, nfsUrl } from '../../storage/netfs.js';
import { imageInfo } from '../../storage/qemu-img.js';
import { runTool } from '../../storage/tools.js';
import { imageName, readProtocolBytes } from './image.js';

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
): Promise<{ probes: DiskProbe[]; cleanup: () => Promise<void> }> {
  const markers: string[] = [];
  const nfsMarkers: { host: string; dir: string; marker: string }[] = [];
  const cleanup = async (): Promise<void> => {
    for (const m of markers) rmSync(m, { force: true });
    for (const m of nfsMarkers)
      await deleteVolume({ host: m.host, exportPath: m.dir }, m.marker).catch(() => undefined);
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
      } else if (disk.network?.protocol === 'nfs') {
        const net = disk.network;
        const dir = posix.dirname(net.name);
        const marker = `ferry-probe-${randomBytes(16).toString('hex')}`;
        const info = await imageInfo(imageName(disk));
        await runTool(
          'qemu-img',
          ['create', '-q', '-f', 'raw', nfsUrl({ host: net.host, exportPath: dir }, marker), '512'],
          'cannot create the probe marker',
        );
        nfsMarkers.push({ host: net.host, dir, marker });
        probes.push({
          kind: 'nfs-marker',
          dev,
          host: net.host,
          dir,
          marker,
          image: net.name,
          virtualSize: info.virtualSize,
        });
      } else {
        const found = await ferryExport(disk);
        if (found !== undefined) probes.push({ kind: 'nbd-export', dev, ...found });
        else {
          const name = imageName(disk);
          probes.push({ kind: 'header', dev, name, ...(await headerOf(name)) });
        }
      }
    }
    return { probes, cleanup };
  } catch (err) {
    await cleanup();
    throw new FerryError('OPERATION_FAILED', `Cannot probe the guest's disks: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** A disk's export on a Ferry NBD export host (its description names pool and volume). */
async function ferryExport(
  disk: DiskDef,
): Promise<
  { host: string; port: number; export: string; description: string; size: number } | undefined
> {
  const net = disk.network;
  if (net?.protocol !== 'nbd') return undefined;
  const port = net.port ?? NBD_DEFAULT_PORT;
  const exp = (await listNbdExports(net.host, port)).find((e) => e.name === net.name);
  if (exp?.description?.startsWith('ferry-volume ') !== true) return undefined;
  return { host: net.host, port, export: net.name, description: exp.description, size: exp.size };
}

/** Why the destination cannot use the disk of `probe`, or undefined when it is the same image. */
async function mismatch(probe: DiskProbe): Promise<string | undefined> {
  if (probe.kind === 'nfs-marker') {
    const loc = { host: probe.host, exportPath: probe.dir };
    const seen = await imageInfo(nfsUrl(loc, probe.marker)).catch(() => undefined);
    if (seen === undefined)
      return `this host does not see the source's marker next to nfs://${probe.host}${probe.image} (another server or export)`;
    const info = await imageInfo(
      nfsUrl({ host: probe.host, exportPath: probe.dir }, posix.basename(probe.image)),
    ).catch((err: unknown) => messageOf(err));
    if (typeof info === 'string') return `this host cannot open it (${info})`;
    return info.virtualSize === probe.virtualSize
      ? undefined
      : `it has another size here (${info.virtualSize} bytes, source ${probe.virtualSize})`;
  }
  if (probe.kind === 'nbd-export') {
    const exp = await listNbdExports(probe.host, probe.port).then(
      (all) => all.find((e) => e.name === probe.export),
      (err: unknown) => messageOf(err),
    );
    if (typeof exp === 'string') return `this host cannot reach its NBD server (${exp})`;
    if (exp === undefined)
      return `this host's NBD server at ${probe.host}:${probe.port} has no export '${probe.export}'`;
    if (exp.description !== probe.description || exp.size !== probe.size)
      return `the export '${probe.export}' this host sees is another image (${exp.description ?? 'no description'}, ${exp.size} bytes)`;
    return undefined;
  }
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
