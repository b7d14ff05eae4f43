/**
 * The perform phase's loop on the source: follows QEMU's job until it ends, reports
 * progress, and applies the job's policy (timeout action, post-copy switch).
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import type { DomainManager, DomainRecord } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { JobStats, MigrateFlags } from '../rpc/schema/migration.js';
import { MigrationError } from './errors.js';
import { jobStatsFrom, nextMigrationEvent, type MigrationInfo } from './stats.js';

const PROGRESS_MS = 250;

/** What the user (or the loss of the peer) asked of a running job. */
export interface JobControl {
  aborted: boolean;
  postcopyRequested: boolean;
  /** Why the connection to the destination ferryd closed, once it has. */
  peerLost?: FerryError;
  /** What `--auto` did so far (migration/auto-policy.ts), shown with the job's stats. */
  autoSteps?: string[];
}

/** What the job does at the watch's post-copy milestones (see source-postcopy.ts). */
export interface WatchHooks {
  /** The stream is in post-copy (first seen): the destination may run the guest from now on. */
  onPostcopy(): Promise<void>;
  /** Every status seen once in post-copy (active, paused, recover); may throw to end the job. */
  onPostcopyStatus(status: string): void;
  /** Adds what only the job knows to a sample (e.g. what is done about a pause). */
  describe(stats: JobStats): JobStats;
  /** Adds the disks' progress to a sample (a storage copy runs beside the stream). */
  withDisks?(stats: JobStats): Promise<JobStats>;
  /**
   * QEMU paused the guest before the switch-over (capability pause-before-switchover): finish
   * what must end with the guest paused (the disk mirrors); the watch then lets QEMU go on.
   */
  onPreSwitchover?(): Promise<void>;
  /** Each sample while the stream is still pre-copy (`--auto` decides its steps here). */
  onPrecopySample?(stats: JobStats): Promise<void>;
}

/** Polls QEMU until the job ends, reporting progress and applying the timeout policy. */
export async function watch(
  qmp: QmpClient,
  flags: MigrateFlags,
  control: JobControl,
  rec: DomainRecord,
  domains: DomainManager,
  onProgress: (stats: JobStats) => void,
  hooks: WatchHooks,
): Promise<JobStats> {
  const started = Date.now();
  let postcopyStarted = false;
  let lastProgress = 0;
  let timeoutApplied = false;
  let preSwitchoverDone = false;
  for (;;) {
    // Armed before the query, so a status change between the two is not missed.
    const wake = nextMigrationEvent(qmp);
    const info = await qmp.execute<MigrationInfo>('query-migrate');
    // Any post-copy status counts: the link may have broken before this loop saw it active.
    if (info.status?.startsWith('postcopy') === true) {
      if (!postcopyStarted) {
        postcopyStarted = true;
        await hooks.onPostcopy();
      }
      hooks.onPostcopyStatus(info.status);
    }
    // Described after the hooks, so a sample tells what is being done about a pause.
    const described = hooks.describe(jobStatsFrom(info, 'Outgoing migration'));
    const withDisks = hooks.withDisks === undefined ? described : await hooks.withDisks(described);
    const stats = withAutoSteps(withDisks, control);
    if (info.status === 'pre-switchover' && !preSwitchoverDone) {
      preSwitchoverDone = true;
      await hooks.onPreSwitchover?.();
      await qmp.execute('migrate-continue', { state: 'pre-switchover' });
      continue;
    }
    if (info.status === 'completed') {
      const final = withAutoSteps(await completedStats(qmp, info, stats), control);
      onProgress(final);
      return final;
    }
    if (info.status === 'failed' || info.status === 'cancelled') {
      throw new MigrationError(
        'perform',
        `migration ${info.status}${info['error-desc'] === undefined ? '' : `: ${info['error-desc']}`}`,
      );
    }
    const now = Date.now();
    if (now - lastProgress >= PROGRESS_MS) {
      onProgress(stats);
      lastProgress = now;
    }
    if (flags.timeout !== undefined && !timeoutApplied && now - started >= flags.timeout * 1000) {
      timeoutApplied = true;
      if (flags.timeoutPostcopy) {
        control.postcopyRequested = true;
        await qmp.execute('migrate-start-postcopy');
      } else if (rec.state === 'running') {
        // libvirt's default timeout action: suspend the guest so the rest converges.
        await domains.pauseForMigration(rec);
      }
    }
    if (flags.postcopyAfterPrecopy && !control.postcopyRequested && (stats.iteration ?? 0) >= 2) {
      control.postcopyRequested = true;
      await qmp.execute('migrate-start-postcopy');
    }
    if (info.status === 'active' && !postcopyStarted) await hooks.onPrecopySample?.(stats);
    await wake;
  }
}

/** A sample with the steps `--auto` took so far. */
export function withAutoSteps(stats: JobStats, control: JobControl): JobStats {
  return control.autoSteps === undefined ? stats : { ...stats, autoSteps: control.autoSteps };
}

/**
 * QEMU announces 'completed' (the MIGRATION event, and query-migrate's status) a moment before
 * its migration thread fills in total-time and downtime: a query in that window reads both as 0.
 * Woken by the event, the watch lands in it often, so ask again until they are there. There is
 * no event to wait for; each query is a monitor round trip, which lets QEMU's thread (waiting
 * for the same big lock) finish. Bounded, as each try delays the switch-over by a round trip.
 */
async function completedStats(
  qmp: QmpClient,
  info: MigrationInfo,
  stats: JobStats,
): Promise<JobStats> {
  for (let attempt = 0; attempt < 20 && (info['total-time'] ?? 0) === 0; attempt++) {
    info = await qmp.execute<MigrationInfo>('query-migrate');
    stats = jobStatsFrom(info, 'Outgoing migration');
  }
  return stats;
}

export async function failedStats(qmp: QmpClient, aborted: boolean): Promise<JobStats> {
  try {
    const stats = jobStatsFrom(
      await qmp.execute<MigrationInfo>('query-migrate'),
      'Outgoing migration',
    );
    return { ...stats, type: aborted ? 'Cancelled' : 'Failed' };
  } catch {
    return {
      type: aborted ? 'Cancelled' : 'Failed',
      operation: 'Outgoing migration',
      status: 'failed',
    };
  }
}

/** The error a failed (not switched-over) job reports. */
export function failureMessage(err: unknown, control: JobControl): FerryError {
  if (control.aborted)
    return new FerryError(
      'OPERATION_FAILED',
      "operation aborted: job 'migration out' canceled by client",
      { cause: err },
    );
  if (control.peerLost !== undefined)
    return new MigrationError(
      'perform',
      `operation failed: Lost connection to destination host (${control.peerLost.message})`,
      err,
    );
  if (err instanceof FerryError) return err;
  return new MigrationError('perform', `Migration failed: ${messageOf(err)}`, err);
}
