/**
 * The storage RPC methods (pool.*, vol.*), each a thin call into ferryd's PoolManager and
 * VolumeService.
 * @module
 */
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { PoolSummary, StorageMethodName, Volume } from '../rpc/schema/storage.js';
import {
  formatVolumeXml,
  type PoolManager,
  type PoolRecord,
  type VolumeInfo,
  type VolumeService,
} from '../storage/index.js';
import type { ConnectionState } from './handlers.js';

type StorageHandlers = Pick<Handlers<Methods, ConnectionState>, StorageMethodName>;

async function summaryOf(pools: PoolManager, rec: PoolRecord): Promise<PoolSummary> {
  const s = await pools.summary(rec);
  return {
    name: s.name,
    uuid: s.uuid,
    type: s.type,
    active: s.active,
    persistent: s.persistent,
    autostart: s.autostart,
    capacity: s.space?.capacity ?? null,
    allocation: s.space?.allocation ?? null,
    available: s.space?.available ?? null,
    exported: s.exported ?? null,
    ...(s.netfs === undefined ? {} : { netfs: s.netfs }),
  };
}

function volumeOf(pool: string, v: VolumeInfo): Volume {
  return {
    pool,
    name: v.name,
    key: v.key,
    path: v.path,
    type: v.type,
    format: v.format,
    capacity: v.capacity,
    allocation: v.allocation,
    backing:
      v.backing === undefined ? null : { path: v.backing.path, format: v.backing.format ?? null },
    description: v.description ?? null,
  };
}

export function createStorageHandlers(pools: PoolManager, volumes: VolumeService): StorageHandlers {
  return {
    'pool.list': async (p) => {
      const wanted = pools.all().filter((r) => (r.active ? p.active : p.inactive));
      return { pools: await Promise.all(wanted.map((r) => summaryOf(pools, r))) };
    },
    'pool.info': (p) => summaryOf(pools, pools.get(p.pool)),
    'pool.define': async (p) => {
      const { def, warnings } = await pools.define(p);
      return { name: def.name, uuid: def.uuid, warnings };
    },
    'pool.create': async (p) => {
      const { build, ...req } = p;
      const { def, warnings } = await pools.create(req, build);
      return { name: def.name, uuid: def.uuid, warnings };
    },
    'pool.build': async (p) => {
      await pools.build(p.pool);
      return { name: p.pool };
    },
    'pool.start': async (p) => {
      await pools.start(p.pool, p.build);
      return { name: p.pool };
    },
    'pool.destroy': async (p) => {
      await pools.destroy(p.pool);
      return { name: p.pool };
    },
    'pool.undefine': async (p) => {
      await pools.undefine(p.pool);
      return { name: p.pool };
    },
    'pool.refresh': async (p) => ({ name: p.pool, warnings: await pools.refresh(p.pool) }),
    'pool.getXml': async (p) => ({ xml: await pools.xml(p.pool, p.inactive) }),
    'pool.setAutostart': async (p) => {
      await pools.setAutostart(p.pool, p.autostart);
      return { name: p.pool };
    },
    'pool.export': async (p) => ({
      name: p.pool,
      ...(await pools.exportPool(p.pool, p.listen, p.port)),
    }),
    'pool.unexport': async (p) => {
      await pools.unexportPool(p.pool);
      return { name: p.pool };
    },
    'vol.list': async (p) => ({
      volumes: (await volumes.list(p.pool)).map((v) => volumeOf(p.pool, v)),
    }),
    'vol.info': async (p) => {
      const found = await volumes.find(p.vol, p.pool);
      return volumeOf(found.pool.def.name, found.vol);
    },
    'vol.create': async (p) => {
      const { vol, warnings } = await volumes.create(p);
      return { name: vol.name, warnings };
    },
    'vol.delete': async (p) => ({ name: (await volumes.delete(p.vol, p.pool)).name }),
    'vol.getXml': async (p) => ({ xml: formatVolumeXml((await volumes.find(p.vol, p.pool)).vol) }),
  };
}
