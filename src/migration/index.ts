/**
 * Migration: the five-phase job between two ferryd (see source.ts for the sequence), the
 * flag rules and QEMU capability table, and query-migrate → domjobinfo statistics.
 * @module
 */
export { migrateOut } from './source.js';
export { MigrationError } from './errors.js';
export type { SourceOptions } from './source.js';
export { IncomingMigrations } from './destination.js';
export { MigrationJournal } from './journal.js';
export { recoverJobs } from './recovery.js';
export type { DestinationOptions, PrepareRequest } from './destination.js';
export {
  checkFlags,
  bandwidthBytes,
  DEFAULT_MAX_DOWNTIME_MS,
  UNLIMITED_BANDWIDTH_MIBS,
} from './flags.js';
export { jobStatsFrom } from './stats.js';
export type { MigrationInfo } from './stats.js';
