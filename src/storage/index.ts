/**
 * Storage: pools and volumes (dir, nbd, netfs over libnfs), the NBD export host that serves a dir
 * pool's volumes from a qemu-storage-daemon, and the resolution of a guest disk's
 * `<source pool= volume=/>` into a source QEMU opens. ferryd owns one PoolManager and one
 * VolumeService on top of it.
 * @module
 */
export type { VolumeSource, ResolvedVolume, VolumeResolver } from './resolve.js';
export type { PoolBackend, PoolSpace, VolumeInfo, CreateVolumeRequest } from './backend.js';
export { PoolManager, exportUri, poolDefOf } from './pool-manager.js';
export type {
  DefinePoolRequest,
  PoolManagerOptions,
  PoolRecord,
  PoolSummary,
} from './pool-manager.js';
export { VolumeService } from './volumes.js';
export type { CreateVolumeParams, FoundVolume } from './volumes.js';
export { DEFAULT_NBD_PORT, POOL_TYPES } from './pool-def.js';
export type { PoolDef, PoolType } from './pool-def.js';
export { formatPoolXml, parsePoolXml } from './pool-xml.js';
export { formatVolumeXml } from './volume-xml.js';
export { exportDescription, listNbdExports } from './nbd-list.js';
export type { NbdExport } from './nbd-list.js';
export { nbdUri } from './nbd-backend.js';
export { STORAGE_DAEMON_BINARY } from './export-host.js';
