/**
 * An outgoing live migration as domjobinfo, domjobabort, migrate-postcopy and
 * migrate --postcopy-resume see it on the source host: the rules for what a user may do to a
 * running job, and when.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { ActiveJob } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { JobStats, MigrateFlags } from '../rpc/schema/migration.js';
import { autoPostcopyAllowed } from './auto-policy.js';
import { withAutoSteps, type JobControl } from './source-watch.js';
import type { SourcePostcopy } from './source-postcopy.js';
import { jobStatsFrom, type MigrationInfo } from './stats.js';

/** A result several callers may wait for, settled once by the job. */
export interface Outcome<T> {
  readonly promise: Promise<T>;
  settle(value: T | undefined, err?: unknown): void;
}

export function outcomeOf<T>(): Outcome<T> {
  let resolve: (v: T) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting (no --postcopy-resume caller): that is no unhandled rejection.
  promise.catch(() => undefined);
  return {
    promise,
    settle: (value, err) => {
      if (err !== undefined || value === undefined) reject(err);
      else resolve(value);
    },
  };
}

export interface OutgoingJob {
  id: string;
  domainName: string;
  qmp: QmpClient;
  flags: MigrateFlags;
  control: JobControl;
  link: SourcePostcopy;
  switchedOver: () => boolean;
  /** Progress listeners: the caller of migration.start, and of each --postcopy-resume. */
  progress: Set<(stats: JobStats) => void>;
  ended: Outcome<{ name: string; stats: JobStats }>;
  /** Folds a storage copy's progress into a sample (domjobinfo's File fields). */
  withDisks: (stats: JobStats) => Promise<JobStats>;
}

/** The handle the host keeps for the job while it runs (DomainManager.acquireJob). */
export function outgoingJobHandle(job: OutgoingJob): ActiveJob {
  const { qmp, flags, control, link } = job;
  const status = async (): Promise<string> =>
    (await qmp.execute<MigrationInfo>('query-migrate')).status ?? 'none';
  return {
    id: job.id,
    operation: 'Outgoing migration',
    stats: async () =>
      withAutoSteps(
        await job.withDisks(
          link.describe(
            jobStatsFrom(await qmp.execute<MigrationInfo>('query-migrate'), 'Outgoing migration'),
          ),
        ),
        control,
      ),
    abort: async () => {
      const now = await status().catch(() => 'none');
      if (now.startsWith('postcopy')) throw postcopyAbortRefused(job.domainName, now);
      if (job.switchedOver())
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: the guest already runs on the destination',
        );
      control.aborted = true;
      await qmp.execute('migrate_cancel');
    },
    startPostcopy: async () => {
      requirePostcopy(flags);
      control.postcopyRequested = true;
      await qmp.execute('migrate-start-postcopy');
    },
    pausePostcopy: async () => {
      requirePostcopy(flags);
      await link.pause();
    },
    resumePostcopy: async (destUri, onProgress) => {
      job.progress.add(onProgress);
      try {
        await link.resumeNow(destUri);
        return await job.ended.promise;
      } finally {
        job.progress.delete(onProgress);
      }
    },
  };
}

function requirePostcopy(flags: MigrateFlags): void {
  if (!flags.postcopy && !autoPostcopyAllowed(flags))
    throw new FerryError(
      'OPERATION_INVALID',
      'Requested operation is not valid: post-copy migration was not enabled (use --postcopy)',
    );
}

/** libvirt's refusal, with why and what to do instead. */
export function postcopyAbortRefused(domain: string, status: string): FerryError {
  const why =
    status === 'postcopy-paused'
      ? `the post-copy migration of '${domain}' is paused, and the guest's memory is split between the two hosts: cancelling would lose the guest. Ferry resumes it once the destination answers again (or run: ferry migrate --postcopy-resume ${domain} DESTURI); domjobabort --postcopy stops the automatic tries`
      : `the guest of '${domain}' runs on the destination, which still needs memory from this host: cancelling would lose the guest (domjobabort --postcopy pauses the migration instead)`;
  return new FerryError(
    'OPERATION_INVALID',
    `Requested operation is not valid: cannot abort migration in post-copy mode: ${why}`,
  );
}
