/**
 * A job sample with its disks: virsh's File fields from the mirrors, and the Data fields as
 * memory plus disks (libvirt's sums), so one progress bar covers the whole job.
 * @module
 */
import type { JobStats } from '../../rpc/schema/migration.js';

export type DiskFields = Pick<
  JobStats,
  'diskProcessed' | 'diskRemaining' | 'diskTotal' | 'diskBandwidth'
>;

/** `stats` (from query-migrate) with `disk` folded in; memory not started yet counts as all remaining. */
export function withDiskStats(stats: JobStats, disk: DiskFields, memoryTotal: number): JobStats {
  const memStarted = stats.dataTotal !== undefined;
  const memProcessed = stats.dataProcessed ?? 0;
  const memRemaining = memStarted ? (stats.dataRemaining ?? 0) : memoryTotal;
  const memTotal = stats.dataTotal ?? memoryTotal;
  const running = stats.type === 'None';
  return {
    ...stats,
    ...(running ? { type: 'Unbounded' as const, status: 'active' } : {}),
    ...disk,
    dataProcessed: memProcessed + (disk.diskProcessed ?? 0),
    dataRemaining: memRemaining + (disk.diskRemaining ?? 0),
    dataTotal: memTotal + (disk.diskTotal ?? 0),
  };
}
