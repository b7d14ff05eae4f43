/**
 * Volume operations over ferryd's pools: list, look up (by name in a pool, or by key/path in
 * any active pool, as virsh does), create, delete, and resolve for a guest's disk. On an
 * exported pool, a created volume is exported at once and a deleted one stops being exported
 * first (refused while an NBD client uses it).
 * @module
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { FerryError, messageOf } from '../common/errors.js';
import type { VolumeInfo } from './backend.js';
import { volumeExists } from './dir-backend.js';
import { noPool, noVolume, poolNotActive } from './errors.js';
import { checkObjectName } from './pool-def.js';
import type { PoolManager, PoolRecord } from './pool-manager.js';
import type { ImageFormat } from './qemu-img.js';
import type { ResolvedVolume, VolumeResolver } from './resolve.js';

/** vol-create-as's request. */
export interface CreateVolumeParams {
  pool: string;
  name: string;
  capacity: number;
  format: ImageFormat;
  /** A volume of the same pool (name or path) the new one is a qcow2 overlay of. */
  backingVol?: string | undefined;
  backingFormat?: ImageFormat | undefined;
}

/** A volume and the pool holding it. */
export interface FoundVolume {
  pool: PoolRecord;
  vol: VolumeInfo;
}

function asImageFormat(format: string, what: string): ImageFormat {
  if (format === 'raw' || format === 'qcow2') return format;
  throw new FerryError(
    'CONFIG_UNSUPPORTED',
    `unsupported configuration: ${what} has format '${format}'; Ferry uses raw and qcow2 only`,
  );
}

export class VolumeService implements VolumeResolver {
  readonly #pools: PoolManager;

  constructor(pools: PoolManager) {
    this.#pools = pools;
  }

  async list(pool: string): Promise<VolumeInfo[]> {
    return this.#pools.active(pool).backend.list();
  }

  /**
   * A volume: by name (then by key or path) in `pool` when given; else by key or path in
   * every active pool. NO_STORAGE_VOL with virsh's wording when there is none.
   */
  async find(vol: string, pool?: string): Promise<FoundVolume> {
    if (pool !== undefined) {
      const rec = this.#pools.active(pool);
      const byName = await rec.backend.volume(vol);
      if (byName !== undefined) return { pool: rec, vol: byName };
      const byPath = await this.#byPath(rec, vol);
      if (byPath !== undefined) return { pool: rec, vol: byPath };
      throw noVolume(vol, pool);
    }
    for (const rec of this.#pools.all()) {
      if (!rec.active) continue;
      const found = await this.#byPath(rec, vol).catch(() => undefined);
      if (found !== undefined) return { pool: rec, vol: found };
    }
    throw noVolume(vol);
  }

  async #byPath(rec: PoolRecord, path: string): Promise<VolumeInfo | undefined> {
    if (rec.def.type === 'dir') {
      const target = rec.def.target;
      if (target === undefined || !isAbsolute(path) || dirname(resolve(path)) !== resolve(target))
        return undefined;
      return rec.backend.volume(basename(path));
    }
    if (!path.includes('://')) return undefined;
    return (await rec.backend.list()).find((v) => v.key === path || v.path === path);
  }

  /** vol-create-as; returns warnings (e.g. the export of the new volume failed). */
  create(p: CreateVolumeParams): Promise<{ vol: VolumeInfo; warnings: string[] }> {
    return this.#pools.serialize(async () => {
      const rec = this.#pools.active(p.pool);
      checkObjectName(p.name, 'volume');
      // An nbd pool refuses at once, saying where to make the volume.
      if (rec.def.type === 'nbd')
        await rec.backend.createVolume({ name: p.name, capacity: p.capacity, format: p.format });
      if ((await rec.backend.volume(p.name)) !== undefined) throw volumeExists(p.name);
      let backing: { path: string; format: ImageFormat } | undefined;
      if (p.backingVol !== undefined) {
        if (p.format !== 'qcow2')
          throw new FerryError(
            'INVALID_ARG',
            `invalid argument: a ${p.format} volume cannot have a backing volume; use --format qcow2`,
          );
        const base = (await this.find(p.backingVol, p.pool)).vol;
        backing = {
          path: base.path,
          format: p.backingFormat ?? asImageFormat(base.format, `backing volume '${base.name}'`),
        };
      }
      const vol = await rec.backend.createVolume({
        name: p.name,
        capacity: p.capacity,
        format: p.format,
        ...(backing === undefined ? {} : { backing }),
      });
      const warnings: string[] = [];
      await rec.exportHost
        ?.add({ name: vol.name, path: vol.path, format: vol.format })
        .catch((err: unknown) => warnings.push(messageOf(err)));
      return { vol, warnings };
    });
  }

  /** vol-delete: an exported volume's export goes first, and only when no client uses it. */
  delete(vol: string, pool?: string): Promise<VolumeInfo> {
    return this.#pools.serialize(async () => {
      const found = await this.find(vol, pool);
      // An nbd pool refuses at once, saying where to delete the volume.
      if (found.pool.def.type === 'nbd') await found.pool.backend.deleteVolume(found.vol);
      await found.pool.exportHost?.remove(found.vol.name);
      await found.pool.backend.deleteVolume(found.vol);
      return found.vol;
    });
  }

  /** VolumeResolver: `<source pool= volume=/>` as a QEMU disk source. */
  async resolveVolume(pool: string, volume: string): Promise<ResolvedVolume> {
    let rec: PoolRecord;
    try {
      rec = this.#pools.get(pool);
    } catch {
      throw noPool(pool);
    }
    if (!rec.active) {
      const why = poolNotActive(pool);
      throw new FerryError('NO_STORAGE_POOL', why.message, { data: { pool } });
    }
    const vol = await rec.backend.volume(volume);
    if (vol === undefined) throw noVolume(volume, pool, 'name');
    return {
      pool,
      volume,
      source: rec.backend.source(vol),
      format: asImageFormat(vol.format, `volume '${volume}' of pool '${pool}'`),
      capacity: vol.capacity,
    };
  }
}
