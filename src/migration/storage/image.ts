/**
 * The qemu-img and qemu-io calls storage migration makes: what an image is (format, virtual
 * size, backing file), creating a target like it, comparing two images, reading raw bytes.
 * Network sources are passed as QEMU's `json:` pseudo-filenames, so every call works the same
 * on a path, an NBD export or an NFS file.
 * @module
 */
import { execFile } from 'node:child_process';
import type { DiskDef } from '../../domain/def.js';
import { FerryError } from '../../common/errors.js';
import { networkStorageNode } from '../../qemu/disk-args.js';

export interface ImageInfo {
  format: string;
  virtualSize: number;
  /** Bytes the image takes on its storage (sparse files count only what is allocated). */
  actualSize?: number;
  backingFile?: string;
  backingFormat?: string;
}

/** Runs a qemu-utils tool; its stderr (first line) becomes the error message. */
export function runTool(
  tool: string,
  args: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      [...args],
      { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000 },
      (err, stdout, stderr) => {
        if (err === null) return resolve(stdout);
        const said = (stderr.trim() || stdout.trim()).split('\n')[0] ?? '';
        reject(
          new FerryError('OPERATION_FAILED', `${tool}: ${said || err.message}`, { cause: err }),
        );
      },
    );
  });
}

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

export async function imageInfo(name: string, format?: string): Promise<ImageInfo> {
  const args = ['info', '--output=json', '-U'];
  if (format !== undefined) args.push('-f', format);
  const raw = JSON.parse(await runTool('qemu-img', [...args, name])) as Record<string, unknown>;
  const info: ImageInfo = {
    format: String(raw['format']),
    virtualSize: Number(raw['virtual-size']),
  };
  if (typeof raw['actual-size'] === 'number') info.actualSize = raw['actual-size'];
  if (typeof raw['backing-filename'] === 'string') info.backingFile = raw['backing-filename'];
  if (typeof raw['backing-filename-format'] === 'string')
    info.backingFormat = raw['backing-filename-format'];
  return info;
}

/** Creates an empty image; `backing` makes a qcow2 overlay over it. */
export async function createImage(
  path: string,
  format: string,
  virtualSize: number,
  backing?: { file: string; format: string },
): Promise<void> {
  const args = ['create', '-q', '-f', format];
  if (backing !== undefined) args.push('-b', backing.file, '-F', backing.format);
  await runTool('qemu-img', [...args, path, String(virtualSize)]);
}

/**
 * Raw bytes of an image's first `length` bytes at its protocol layer (for a qcow2 file, its
 * header), through qemu-io, which reaches every source QEMU can.
 */
export async function readProtocolBytes(name: string, length: number): Promise<Buffer> {
  const out = await runTool('qemu-io', [
    '-r',
    '-U',
    '-f',
    'raw',
    '-c',
    `read -v 0 ${length}`,
    name,
  ]);
  const bytes: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^[0-9a-f]{8}:((?:\s+[0-9a-f]{2}){1,16})/.exec(line);
    if (m?.[1] === undefined) continue;
    for (const hex of m[1].trim().split(/\s+/)) bytes.push(parseInt(hex, 16));
  }
  return Buffer.from(bytes);
}
