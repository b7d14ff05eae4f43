/**
 * The storage benchmark's source image: 2 GiB raw, random data in every other MiB (1 GiB of
 * incompressible data, 1 GiB of holes), so that neither QEMU's mirror nor `qemu-img convert`
 * can skip the data and both see the same zero runs. Made once and kept in /tmp.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const IMAGE_BYTES = 2 * 1024 ** 3;
export const DATA_BYTES = IMAGE_BYTES / 2;
const EXTENT = 1024 ** 2;

/** The cached image's path; written (sparse) the first time, then reused. */
export function benchImage(): string {
  const path = join(tmpdir(), 'ferry-bench-storage-2g-1m-alternating.raw');
  try {
    const st = statSync(path);
    // Allocated blocks tell a finished image (≈ 1 GiB) from a truncated one.
    if (st.size === IMAGE_BYTES && st.blocks * 512 >= DATA_BYTES) return path;
  } catch {
    // Not made yet.
  }
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  try {
    ftruncateSync(fd, IMAGE_BYTES);
    const buf = Buffer.alloc(EXTENT);
    for (let off = 0; off < IMAGE_BYTES; off += 2 * EXTENT) {
      randomFillSync(buf);
      writeSync(fd, buf, 0, EXTENT, off);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path);
  return path;
}
