/**
 * Image files through `qemu-img`: what one is (format, virtual size, backing file) and making
 * a new one.
 * @module
 */
import { runTool } from './tools.js';

export type ImageFormat = 'raw' | 'qcow2';

/** What `qemu-img info` says about an image. */
export interface ImageInfo {
  /** raw and qcow2 as such; any other format QEMU detects is reported by its own name. */
  format: string;
  virtualSize: number;
  /** Bytes the image takes on its storage (a sparse file counts only what is allocated). */
  actualSize?: number;
  backing?: { path: string; format: string | undefined };
}

/** Parses `qemu-img info --output=json`; exported for tests on recorded output. */
export function parseImageInfo(json: string): ImageInfo {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const format = typeof raw['format'] === 'string' ? raw['format'] : 'raw';
  const virtualSize = typeof raw['virtual-size'] === 'number' ? raw['virtual-size'] : 0;
  const backingPath =
    typeof raw['full-backing-filename'] === 'string'
      ? raw['full-backing-filename']
      : typeof raw['backing-filename'] === 'string'
        ? raw['backing-filename']
        : undefined;
  const backingFormat =
    typeof raw['backing-filename-format'] === 'string' ? raw['backing-filename-format'] : undefined;
  return {
    format,
    virtualSize,
    ...(typeof raw['actual-size'] === 'number' ? { actualSize: raw['actual-size'] } : {}),
    ...(backingPath === undefined ? {} : { backing: { path: backingPath, format: backingFormat } }),
  };
}

/**
 * Reads an image's header. `-U` (force share): a guest may hold the image's lock, and reading
 * the header does not disturb it.
 */
export async function imageInfo(path: string, format?: string): Promise<ImageInfo> {
  const { stdout } = await runTool(
    'qemu-img',
    ['info', '-U', '--output=json', ...(format === undefined ? [] : ['-f', format]), path],
    `cannot read image '${path}'`,
  );
  return parseImageInfo(stdout);
}

export interface CreateImageOptions {
  path: string;
  format: ImageFormat;
  capacity: number;
  backing?: { path: string; format: ImageFormat };
}

/** `qemu-img create -f FMT [-b BACKING -F BFMT] PATH SIZE`. */
export async function createImage(o: CreateImageOptions): Promise<void> {
  const backing = o.backing === undefined ? [] : ['-b', o.backing.path, '-F', o.backing.format];
  await runTool(
    'qemu-img',
    ['create', '-q', '-f', o.format, ...backing, o.path, String(o.capacity)],
    `cannot create volume '${o.path}'`,
  );
}
