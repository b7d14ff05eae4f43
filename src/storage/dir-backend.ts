/**
 * dir pools: a directory whose regular files are the volumes (libvirt's storage_backend_fs
 * "dir" type). Sizes come from statfs of the directory, formats from the images' headers.
 * @module
 */
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';
import type { CreateVolumeRequest, PoolBackend, PoolSpace, VolumeInfo } from './backend.js';
import type { PoolDef } from './pool-def.js';
import { createImage, imageInfo } from './qemu-img.js';
import type { VolumeSource } from './resolve.js';

function targetOf(def: PoolDef): string {
  if (def.target === undefined)
    throw new FerryError('XML_ERROR', 'XML error: missing storage pool target path');
  return def.target;
}

/** virsh's words for a target directory it cannot use. */
function cannotOpen(dir: string, err: unknown): FerryError {
  return new FerryError('SYSTEM_ERROR', `cannot open directory '${dir}': ${describeErrno(err)}`, {
    cause: err,
  });
}

export class DirBackend implements PoolBackend {
  readonly #dir: string;

  constructor(def: PoolDef) {
    this.#dir = targetOf(def);
  }

  async build(): Promise<void> {
    try {
      // libvirt's default mode for a pool directory it builds.
      await mkdir(this.#dir, { recursive: true, mode: 0o711 });
    } catch (err) {
      throw new FerryError(
        'SYSTEM_ERROR',
        `cannot create path '${this.#dir}': ${describeErrno(err)}`,
        { cause: err },
      );
    }
  }

  async start(): Promise<void> {
    try {
      const st = await stat(this.#dir);
      if (!st.isDirectory())
        throw Object.assign(new Error('Not a directory'), { errno: -20, code: 'ENOTDIR' });
      await access(this.#dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      throw cannotOpen(this.#dir, err);
    }
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  refresh(): Promise<void> {
    // Volumes are read from the directory each time; there is nothing cached to drop.
    return this.start();
  }

  async info(): Promise<PoolSpace> {
    const [fs, st] = await Promise.all([statfs(this.#dir), stat(this.#dir)]).catch(
      (err: unknown) => {
        throw cannotOpen(this.#dir, err);
      },
    );
    const capacity = fs.blocks * fs.bsize;
    return {
      capacity,
      allocation: capacity - fs.bfree * fs.bsize,
      available: fs.bavail * fs.bsize,
      permissions: { mode: st.mode & 0o7777, owner: st.uid, group: st.gid },
    };
  }

  async list(): Promise<VolumeInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (err) {
      throw cannotOpen(this.#dir, err);
    }
    const vols = await Promise.all(
      names
        .filter((n) => !n.startsWith('.'))
        .sort()
        .map((n) => this.volume(n)),
    );
    return vols.filter((v): v is VolumeInfo => v !== undefined);
  }

  async volume(name: string): Promise<VolumeInfo | undefined> {
    // Hidden files are never volumes: vol-create-as refuses such names, so none is ours.
    if (name.startsWith('.') || name.includes('/')) return undefined;
    const path = join(this.#dir, name);
    let st;
    try {
      // lstat: a symbolic link could point anywhere on the host, so it is no volume.
      st = await lstat(path);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const info = await imageInfo(path).catch(() => undefined);
    return {
      name,
      key: path,
      path,
      type: 'file',
      format: info?.format ?? 'raw',
      capacity: info?.virtualSize ?? st.size,
      allocation: st.blocks * 512,
      ...(info?.backing === undefined ? {} : { backing: info.backing }),
    };
  }

  async createVolume(req: CreateVolumeRequest): Promise<VolumeInfo> {
    const path = join(this.#dir, req.name);
    // Claim the name first (O_EXCL): qemu-img create would overwrite a file made meanwhile.
    try {
      await writeFile(path, '', { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw volumeExists(req.name);
      throw new FerryError('SYSTEM_ERROR', `cannot create '${path}': ${describeErrno(err)}`, {
        cause: err,
      });
    }
    try {
      await createImage({
        path,
        format: req.format,
        capacity: req.capacity,
        ...(req.backing === undefined ? {} : { backing: req.backing }),
      });
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    const vol = await this.volume(req.name);
    if (vol === undefined)
      throw new FerryError('OPERATION_FAILED', `volume '${req.name}' vanished after creation`);
    return vol;
  }

  async deleteVolume(vol: VolumeInfo): Promise<void> {
    await rm(vol.path).catch((err: unknown) => {
      throw new FerryError(
        'SYSTEM_ERROR',
        `cannot unlink file '${vol.path}': ${describeErrno(err)}`,
        { cause: err },
      );
    });
  }

  source(vol: VolumeInfo): VolumeSource {
    return { type: 'file', path: vol.path };
  }
}

/** virsh's words for a name already taken. */
export function volumeExists(name: string): FerryError {
  return new FerryError('OPERATION_FAILED', `storage volume '${name}' exists already`);
}
