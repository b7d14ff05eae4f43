/**
 * One incoming migration job on the destination: what IncomingMigrations keeps about it,
 * waiting for its QEMU's migration status, and its handle for domjobinfo and domjobabort.
 * @module
 */
import type { HostCpuModel } from '../rpc/schema/cpu.js';
import { FerryError } from '../common/errors.js';
import type { ActiveJob, DomainManager, DomainRecord, Logger } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';
import { guestFailedError } from './guest-evidence.js';
import { watchGuestAfterSwitchover } from './guest-watch.js';
import type { DestinationEntry, MigrationJournal } from './journal.js';
import { jobStatsFrom, nextMigrationEvent, type MigrationInfo } from './stats.js';
import type { IncomingDisks } from './storage/destination-storage.js';

export interface PrepareRequest {
  xml: string;
  sourceHostUuid: string;
  offline: boolean;
  persistent: boolean;
  capabilities: { capability: string; state: boolean }[];
  parameters: Record<string, number | string | boolean>;
  listenAddress?: string | undefined;
  /** See PrepareParams.destHost: the name to advertise when listening on every address. */
  destHost?: string | undefined;
  /** Receive over TLS (PrepareParams.tls). */
  tls?: boolean | undefined;
  /** The guest's disks (PrepareParams.disks): probes of shared ones, copies to make ready. */
  disks?: IncomingDisks | undefined;
  /** The source host's CPU in host-model form (PrepareParams.sourceHostCpu). */
  sourceHostCpu?: HostCpuModel | undefined;
}

/** The source ferryd's connection a call came on: its loss matters to the job. */
export interface SourceConnection {
  onClose(cb: (reason: FerryError | undefined) => void): void;
  /** Pings the source when it goes quiet, so that a silently dead link is noticed. */
  startKeepalive(options: KeepaliveOptions): void;
}

export interface IncomingJob {
  id: string;
  rec: DomainRecord;
  entry: DestinationEntry;
  /** The port QEMU listens on for the stream (the latest one after a post-copy recovery). */
  port: number;
  /** The address QEMU listens on, and the host name advertised when that is a wildcard. */
  listen: string;
  destHost: string | undefined;
  /** Set once the guest is this host's (the source handed it over, or post-copy reached it). */
  finished: boolean;
  /** Set once the guest runs here. */
  resumed: boolean;
  /** Running the guest here, once begun (by finish, or alone after the source went away). */
  running?: Promise<void> | undefined;
  /** True while a source ferryd's connection for this job is open. */
  sourceConnected: boolean;
  /** Counts the source's connections, so a stale one's close is told from the current one's. */
  sourceGeneration: number;
  /** Stops following QEMU's MIGRATION events. */
  unwatch?: (() => void) | undefined;
  /** The migration status QEMU last announced (MIGRATION event). */
  status?: string | undefined;
  /** A query-migrate for domjobinfo still unanswered (see incomingJobHandle). */
  statsQuery?: Promise<MigrationInfo> | undefined;
  /** What the last answered one said. */
  lastInfo?: MigrationInfo | undefined;
}

/** QEMU's statuses of a stream in post-copy: from here on the guest belongs to this host. */
export const POSTCOPY_STATES = ['postcopy-active', 'postcopy-paused', 'postcopy-recover'] as const;

/** Statuses in which the source may hand the guest over in post-copy. */
export const HANDOVER_STATES: readonly string[] = [...POSTCOPY_STATES, 'completed'];

export function isPostcopy(status: string | undefined): boolean {
  return status !== undefined && (POSTCOPY_STATES as readonly string[]).includes(status);
}

/**
 * The incoming QEMU's migration status, or undefined when it has none (or is gone). Once in
 * post-copy it is the one QEMU last announced: under TCG a vCPU waits for a missing page
 * holding QEMU's big lock, so while the stream is paused QEMU's main loop, and every
 * in-band QMP command with it, waits for the stream to resume.
 */
export async function incomingStatus(job: IncomingJob): Promise<string | undefined> {
  if (isPostcopy(job.status)) return job.status;
  const qmp = job.rec.proc?.qmp;
  if (qmp === undefined) return undefined;
  return (await qmp.execute<MigrationInfo>('query-migrate')).status;
}

/** Waits until QEMU's incoming status is one of `states` and returns it; fails on failed/cancelled. */
export async function waitForStatus(
  job: IncomingJob,
  states: readonly string[],
  timeoutMs = 30_000,
): Promise<string> {
  const qmp = job.rec.proc?.qmp;
  if (qmp === undefined) throw new FerryError('OPERATION_FAILED', 'Destination QEMU exited');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Armed before the query, so a status change between the two is not missed.
    const wake = nextMigrationEvent(qmp);
    const known = isPostcopy(job.status) ? job.status : undefined;
    const info: MigrationInfo =
      known !== undefined ? { status: known } : await qmp.execute<MigrationInfo>('query-migrate');
    if (info.status !== undefined && states.includes(info.status)) return info.status;
    if (info.status === 'failed' || info.status === 'cancelled') {
      throw new FerryError(
        'OPERATION_FAILED',
        `incoming migration ${info.status}${info['error-desc'] === undefined ? '' : `: ${info['error-desc']}`}`,
      );
    }
    if (Date.now() > deadline)
      throw new FerryError(
        'OPERATION_TIMEOUT',
        `incoming migration still '${info.status ?? '?'}' after the source finished`,
      );
    await wake;
  }
}

/** Calls `onStatus` with every MIGRATION status QEMU announces; returns the unsubscribe. */
export function followMigrationStatus(
  qmp: QmpClient,
  onStatus: (status: string) => void,
): () => void {
  return qmp.onEvent((ev) => {
    if (ev.event !== 'MIGRATION') return;
    const status = (ev.data as { status?: unknown } | undefined)?.status;
    if (typeof status === 'string') onStatus(status);
  });
}

/** The job as domjobinfo, domjobabort and migrate-postcopy see it on the destination. */
export function incomingJobHandle(
  job: IncomingJob,
  qmp: QmpClient,
  abort: () => Promise<void>,
): ActiveJob {
  return {
    id: job.id,
    operation: 'Incoming migration',
    stats: async () => {
      const info = await answeredWithin(job, qmp, STATS_WAIT_MS);
      const stats = jobStatsFrom(
        info ?? { ...job.lastInfo, status: job.status ?? 'unknown' },
        'Incoming migration',
      );
      return stats.status === 'postcopy-paused'
        ? { ...stats, postcopyRecovery: 'paused; waiting for the source to resume the stream' }
        : stats;
    },
    abort: async () => {
      const status = await incomingStatus(job).catch(() => undefined);
      if (isPostcopy(status))
        throw new FerryError(
          'OPERATION_INVALID',
          `Requested operation is not valid: cannot abort migration in post-copy mode: the guest of '${job.rec.def.name}' is this host's now, and part of its memory is still on the source`,
        );
      await abort();
    },
    startPostcopy: () =>
      Promise.reject(
        new FerryError('OPERATION_INVALID', 'Post-copy is switched on the source host'),
      ),
    pausePostcopy: () =>
      Promise.reject(
        new FerryError('OPERATION_INVALID', 'Post-copy is paused from the source host'),
      ),
  };
}

/** How long domjobinfo waits for QEMU before answering from what it last knew. */
const STATS_WAIT_MS = 1000;

/**
 * query-migrate for domjobinfo, one at a time: while QEMU's main loop is blocked (paused
 * post-copy) each query waits in QEMU's queue, and a full queue would stop QEMU reading even
 * the out-of-band commands that resume the stream. Undefined when no answer came in time.
 */
async function answeredWithin(
  job: IncomingJob,
  qmp: QmpClient,
  ms: number,
): Promise<MigrationInfo | undefined> {
  if (job.statsQuery === undefined) {
    const query = qmp.execute<MigrationInfo>('query-migrate').finally(() => {
      job.statsQuery = undefined;
    });
    // Answered or not, nobody may be waiting any more when it settles.
    query.catch(() => undefined);
    job.statsQuery = query;
  }
  const info = await Promise.race([
    job.statsQuery,
    new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref()),
  ]);
  if (info !== undefined) job.lastInfo = info;
  return info;
}

/**
 * A completed stream is not proof that the guest survived it: watch it run here for a while
 * (guest-watch.ts, ferryd.conf migration_watch_ms) and turn a guest that failed into an error
 * carrying the evidence, journaled with the job.
 */
export async function watchReceivedGuest(
  job: IncomingJob,
  o: { watchMs?: number | undefined; journal: MigrationJournal; log: Logger },
): Promise<void> {
  const graceMs = o.watchMs ?? 0;
  if (graceMs <= 0) return;
  const { rec } = job;
  const verdict = await watchGuestAfterSwitchover(rec, { graceMs });
  if (verdict.ok) return;
  o.log.error(
    { domain: rec.def.name, evidence: verdict.evidence },
    'guest failed on the destination after the switch-over',
  );
  const err = guestFailedError(rec.def.name, verdict.evidence);
  if (rec.lastJob !== undefined) rec.lastJob = { ...rec.lastJob, error: err.message };
  job.entry = o.journal.finish(job.entry, 'completed', {
    ...(job.entry.stats ?? { type: 'Completed', status: 'completed' }),
    error: err.message,
  });
  throw err;
}

/**
 * migration.finish for a job no longer running here: an offline one (in `offlineJobs`, its
 * prepare left no state behind), one that completed meanwhile (post-copy finished without
 * the source), or one this host never prepared, which is refused and logged.
 */
export function endedJobAnswer(
  o: { journal: MigrationJournal; domains: DomainManager; log: Logger },
  jobId: string,
): { name: string; state: string } {
  const done = o.journal.get('destination', jobId);
  if (done === undefined) {
    o.log.warn({ job: jobId }, 'peer finished a migration job that does not exist');
    throw new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: no incoming migration job '${jobId}' on this host`,
    );
  }
  if (done.outcome !== 'completed') return { name: '', state: 'shut off' };
  return { name: done.domainName, state: o.domains.find(done.domainUuid)?.state ?? 'shut off' };
}
