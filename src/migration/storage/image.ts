/**
 * What qemu-img and qemu-io are given for a disk's bytes (a path, or QEMU's `json:` filename
 * for a network disk, so every tool reaches NBD and NFS sources as QEMU does), and raw bytes
 * read through qemu-io.
 * @module
 */
import type { DiskDef } from '../../domain/def.js';
import { FerryError } from '../../common/errors.js';
import { networkStorageNode } from '../../qemu/disk-args.js';
import { runTool } from '../../storage/tools.js';

/** What qemu-img and qemu-io are given for a disk's bytes: a path, or a json: filename. */
export function imageName(disk: DiskDef): string {
  if (disk.network !== undefined) {
    const node = networkStorageNode(disk.network, 'x');
    delete node['node-name'];
    return `json:${JSON.stringify({ file: node })}`;
  }
  if (disk.source === undefined)
    throw new FerryError('INVALID_ARG', `Disk '${disk.target.dev}' has no source`);
  return disk.source;
}

/**
 * Raw bytes of an image's first `length` bytes at its protocol layer (for a qcow2 file, its
 * header), through qemu-io, which reaches every source QEMU can.
 */
export async function readProtocolBytes(name: string, length: number): Promise<Buffer> {
  const { stdout: out } = await runTool(
    'qemu-io',
    ['-r', '-U', '-f', 'raw', '-c', `read -v 0 ${length}`, name],
    `cannot read '${name}'`,
  );
  const bytes: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^[0-9a-f]{8}:((?:\s+[0-9a-f]{2}){1,16})/.exec(line);
    if (m?.[1] === undefined) continue;
    for (const hex of m[1].trim().split(/\s+/)) bytes.push(parseInt(hex, 16));
  }
  return Buffer.from(bytes);
}
