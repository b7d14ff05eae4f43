/**
 * Migration: the five-phase job between two ferryd (see source.ts for the sequence), the
 * flag rules and QEMU capability table, query-migrate → domjobinfo statistics, and the watch
 * of the guest on the destination after the switch-over (guest-watch.ts). A post-copy stream
 * whose link breaks is paused on both sides and resumed (source-postcopy.ts, postcopy-resume.ts,
 * incoming-postcopy.ts).
 * @module
 */
export { migrateOut, resumeMigrationOut } from './source.js';
export { MigrationError } from './errors.js';
export type { SourceOptions } from './source.js';
export { IncomingMigrations } from './destination.js';
export { MigrationJournal } from './journal.js';
export { recoverJobs } from './recovery.js';
export type { DestinationOptions, PrepareRequest, SourceConnection } from './destination.js';
export {
  checkFlags,
  checkResumeFlags,
  bandwidthBytes,
  DEFAULT_MAX_DOWNTIME_MS,
  UNLIMITED_BANDWIDTH_MIBS,
} from './flags.js';
export { jobStatsFrom } from './stats.js';
export { DEFAULT_MIGRATION_TLS_DIR } from './tls.js';
export type { MigrationInfo } from './stats.js';
export { watchGuest, watchGuestAfterSwitchover, MIN_PROGRESS_WINDOW_MS } from './guest-watch.js';
export type { GuestVerdict, GuestWatchOptions, WatchQmp, WatchTarget } from './guest-watch.js';
export { guestFailedError, keyConsoleLine } from './guest-evidence.js';
export type { GuestEvidence, GuestFailureKind, VcpuProgress } from './guest-evidence.js';
