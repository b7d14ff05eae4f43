/**
 * QEMU's query-migrate reply → domjobinfo's statistics (libvirt's
 * qemuMonitorJSONGetMigrationStatsReply, in small): a pure function, unit-tested on replies.
 * @module
 */
import type { QmpClient } from '../qmp/index.js';
import type { JobStats } from '../rpc/schema/migration.js';

/** The parts of query-migrate's MigrationInfo that Ferry reads. */
export interface MigrationInfo {
  status?: string;
  'total-time'?: number;
  'expected-downtime'?: number;
  downtime?: number;
  'setup-time'?: number;
  'cpu-throttle-percentage'?: number;
  'error-desc'?: string;
  ram?: {
    transferred: number;
    remaining: number;
    total: number;
    duplicate: number;
    normal: number;
    'normal-bytes': number;
    'dirty-pages-rate': number;
    mbps: number;
    'dirty-sync-count': number;
    'page-size': number;
    'postcopy-requests': number;
  };
}

const TYPE_BY_STATUS: Record<string, JobStats['type']> = {
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function jobStatsFrom(
  info: MigrationInfo,
  operation: NonNullable<JobStats['operation']>,
): JobStats {
  const status = info.status ?? 'none';
  const stats: JobStats = {
    type: status === 'none' ? 'None' : (TYPE_BY_STATUS[status] ?? 'Unbounded'),
    operation,
    status,
  };
  if (info['total-time'] !== undefined) stats.timeElapsedMs = info['total-time'];
  if (info['setup-time'] !== undefined) stats.setupTimeMs = info['setup-time'];
  if (info.downtime !== undefined) stats.totalDowntimeMs = info.downtime;
  if (info['expected-downtime'] !== undefined) stats.expectedDowntimeMs = info['expected-downtime'];
  if (info['cpu-throttle-percentage'] !== undefined)
    stats.autoConvergeThrottle = info['cpu-throttle-percentage'];
  if (info['error-desc'] !== undefined) stats.error = info['error-desc'];
  if (status.startsWith('postcopy')) stats.postcopy = true;
  const ram = info.ram;
  if (ram !== undefined) {
    stats.dataProcessed = ram.transferred;
    stats.dataRemaining = ram.remaining;
    stats.dataTotal = ram.total;
    stats.memoryBandwidth = Math.round((ram.mbps * 1e6) / 8);
    stats.pageSize = ram['page-size'];
    stats.dirtyRate = Math.round(ram['dirty-pages-rate'] * ram['page-size']);
    stats.iteration = ram['dirty-sync-count'];
    stats.postcopyRequests = ram['postcopy-requests'];
    stats.constantPages = ram.duplicate;
    stats.normalPages = ram.normal;
    stats.normalData = ram['normal-bytes'];
  }
  return stats;
}

/** How often a job is looked at when QEMU reports nothing: progress, timeouts, policy. */
export const TICK_MS = 100;

/**
 * Resolves on QEMU's next MIGRATION event (a status change, e.g. to 'completed') or after
 * TICK_MS, whichever comes first: the job reacts to the end at once instead of a poll later.
 */
export function nextMigrationEvent(qmp: QmpClient): Promise<void> {
  return qmp.waitForEvent('MIGRATION', { timeoutMs: TICK_MS }).then(
    () => undefined,
    () => undefined,
  );
}

/** domjobinfo's statistics for a job that ended without completing, with the reason if known. */
export function failedJob(operation: NonNullable<JobStats['operation']>, why?: string): JobStats {
  const stats: JobStats = { type: 'Failed', operation, status: 'failed' };
  if (why !== undefined) stats.error = why;
  return stats;
}
