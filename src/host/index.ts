/**
 * The host: its domains, their lifecycle and the QEMU processes behind them.
 * @module
 */
export { DomainManager } from './domain-manager.js';
export type { DomainManagerOptions, GuestSize } from './domain-registry.js';
export type { ActiveJob, DomainRecord, PanicRecord } from './domain-record.js';
export { DEFAULT_MIGRATION_TUNING } from './domain-record.js';
export type { Logger } from './logger.js';
export { SILENT_LOGGER } from './logger.js';
export { loadHostUuid } from './identity.js';
export {
  checkHostPolicy,
  DEFAULT_ALLOWED_PATHS,
  pathAllowed,
  qemuCommandlineArgs,
  QEMU_NS,
} from './policy.js';
export type { HostPolicy } from './policy.js';
export { processCpuTimeNs, threadSchedStat } from './cpu-time.js';
export type { ThreadSchedStat } from './cpu-time.js';
