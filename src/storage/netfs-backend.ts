/**
 * netfs pools over libnfs: the volumes are the image files in a directory an NFS server
 * exports, read and made through src/storage/netfs.ts with nothing mounted (this kernel has no
 * NFS client; QEMU opens the images itself with its nfs driver). The pool's target path is
 * recorded, as libvirt does, but never mounted or used.
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import type { CreateVolumeRequest, PoolBackend, PoolSpace, VolumeInfo } from './backend.js';
import { volumeExists } from './dir-backend.js';
import { noVolume } from './errors.js';
import {
  createVolume,
  deleteVolume,
  isVolumeName,
  listVolumes,
  nfsUrl,
  parseNfsUrl,
  poolSpace,
  volumeInfo,
  volumeSource,
  type NetfsLocation,
} from './netfs.js';
import { netfsLocation, type PoolDef } from './pool-def.js';
import type { VolumeSource } from './resolve.js';

/** Whether libnfs's reason says the server answered but has no such export (or denies it). */
const notExported = (why: string): boolean => /MNT3ERR_(NOENT|ACCES|NOTDIR)/.test(why);

export class NetfsBackend implements PoolBackend {
  readonly #loc: NetfsLocation;
  readonly #pool: string;

  constructor(def: PoolDef) {
    this.#loc = netfsLocation(def);
    this.#pool = def.name;
  }

  /** Nothing to make: the directory is the server's, and nothing is mounted here. */
  build(): Promise<void> {
    return Promise.resolve();
  }

  /** pool-start: the server must answer for the export, naming both when it does not. */
  async start(): Promise<void> {
    await this.info();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Volumes are read from the server each time; refreshing checks it still answers. */
  refresh(): Promise<void> {
    return this.start();
  }

  async info(): Promise<PoolSpace> {
    try {
      return await poolSpace(this.#loc);
    } catch (err) {
      throw this.#unreachable(err);
    }
  }

  async list(): Promise<VolumeInfo[]> {
    try {
      return await listVolumes(this.#loc);
    } catch (err) {
      throw this.#unreachable(err);
    }
  }

  async volume(name: string): Promise<VolumeInfo | undefined> {
    // A name no NFS volume can have (e.g. a path) is simply not a volume of this pool.
    if (!isVolumeName(name)) return undefined;
    return volumeInfo(this.#loc, name);
  }

  async createVolume(req: CreateVolumeRequest): Promise<VolumeInfo> {
    try {
      return await createVolume(this.#loc, {
        name: req.name,
        capacity: req.capacity,
        format: req.format,
        ...(req.backing === undefined ? {} : { backing: this.#backingOf(req.backing) }),
      });
    } catch (err) {
      if (err instanceof FerryError && err.data?.['exists'] === true) throw volumeExists(req.name);
      throw err;
    }
  }

  async deleteVolume(vol: VolumeInfo): Promise<void> {
    try {
      await deleteVolume(this.#loc, vol.name);
    } catch (err) {
      if (err instanceof FerryError && err.data?.['notFound'] === true)
        throw noVolume(vol.name, this.#pool, 'name');
      throw err;
    }
  }

  source(vol: VolumeInfo): VolumeSource {
    return volumeSource(this.#loc, vol.name);
  }

  /**
   * A backing volume of this pool is recorded by its bare name: QEMU finds it next to the
   * overlay, so the image stays usable from any host, whatever name it gives the server.
   */
  #backingOf(backing: { path: string; format: 'raw' | 'qcow2' }): {
    path: string;
    format: 'raw' | 'qcow2';
  } {
    const url = parseNfsUrl(backing.path);
    const prefix = `${this.#loc.exportPath}/`;
    if (url.host !== this.#loc.host || !url.path.startsWith(prefix))
      throw new FerryError(
        'INVALID_ARG',
        `invalid argument: backing volume ${backing.path} is not in pool '${this.#pool}' (${nfsUrl(this.#loc)})`,
      );
    return { path: url.path.slice(prefix.length), format: backing.format };
  }

  /** The server or its export cannot be used: say which host and path, and libnfs's reason. */
  #unreachable(err: unknown): FerryError {
    if (!(err instanceof FerryError) || err.code !== 'OPERATION_FAILED') return asFerry(err);
    const { host, exportPath } = this.#loc;
    const why = messageOf(err);
    const message = notExported(why)
      ? `NFS server '${host}' does not export '${exportPath}' (or denies it to this host): ${why}`
      : `cannot reach NFS server '${host}' for export path '${exportPath}': ${why}`;
    return new FerryError('OPERATION_FAILED', `operation failed: ${message}`, { cause: err });
  }
}

function asFerry(err: unknown): FerryError {
  return err instanceof FerryError
    ? err
    : new FerryError('SYSTEM_ERROR', messageOf(err), { cause: err });
}
