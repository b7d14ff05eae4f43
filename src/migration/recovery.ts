/**
 * What a ferryd does at start-up with the migration jobs its journal says were running when
 * the previous ferryd stopped (crash, kill -9, upgrade). Its QEMU processes survived and are
 * re-attached already; the journal tells which side of the switch-over each job was on:
 *
 * - source, before `switching`: roll back — cancel the stream, resume the guest as it was;
 *   the destination, which saw this ferryd's connection drop, has thrown its copy away.
 * - source, at `switching` (or QEMU already in post-copy): only the destination knows
 *   whether the guest runs there; ask it (settle.ts), then stop or resume the source guest.
 *   A post-copy stream that is paused (or pauses meanwhile) is resumed first, as during the
 *   job (source-postcopy.ts): the destination cannot finish without the pages still here.
 * - destination: see IncomingMigrations.recover.
 *
 * Finished jobs only give domjobinfo --completed its answer back.
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import type { DomainManager, DomainRecord, Logger } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';
import type { JobStats } from '../rpc/schema/migration.js';
import type { IncomingMigrations } from './destination.js';
import type { MigrationJournal, SourceEntry } from './journal.js';
import { connectPeer } from './peer.js';
import { cancelLeftoverMirrors } from './storage/mirror.js';
import { settleAfterSwitchover } from './settle.js';
import { outcomeOf, postcopyAbortRefused } from './source-job.js';
import { SourcePostcopy } from './source-postcopy.js';
import { failedJob, jobStatsFrom, nextMigrationEvent, type MigrationInfo } from './stats.js';

export interface RecoveryContext {
  domains: DomainManager;
  journal: MigrationJournal;
  incoming: IncomingMigrations;
  log: Logger;
  /** As for live jobs (SourceOptions): keepalive to the destination, automatic resume. */
  keepalive?: KeepaliveOptions | undefined;
  autoResume?: boolean | undefined;
}

/**
 * Takes every unfinished job in hand: the domains are reserved before this returns (so no
 * new job can start on them); the returned promise settles when every job is decided.
 */
export function recoverJobs(ctx: RecoveryContext): Promise<void> {
  const { journal, domains, log } = ctx;
  const pending: Promise<void>[] = [];
  const entries = journal.load((file, why) =>
    log.error({ file, err: why }, 'unreadable migration journal entry left alone'),
  );
  for (const entry of entries) {
    if (entry.phase === 'done') {
      const rec = domains.find(entry.domainUuid);
      if (rec !== undefined && entry.stats !== undefined) rec.lastJob = entry.stats;
      continue;
    }
    log.warn(
      { domain: entry.domainName, job: entry.jobId, role: entry.role, phase: entry.phase },
      'recovering a migration job interrupted by a ferryd restart',
    );
    const work =
      entry.role === 'destination' ? ctx.incoming.recover(entry) : recoverSource(ctx, entry);
    pending.push(
      work.catch((err: unknown) => {
        log.error({ domain: entry.domainName, err: messageOf(err) }, 'job recovery failed');
      }),
    );
  }
  return Promise.all(pending).then(() => undefined);
}

function recoverSource(ctx: RecoveryContext, entry: SourceEntry): Promise<void> {
  const { domains, journal } = ctx;
  const rec = domains.find(entry.domainUuid);
  const qmp = rec?.proc?.qmp;
  if (rec === undefined || (qmp === undefined && entry.phase !== 'switching')) {
    const stats = failedJob('Outgoing migration', 'the source QEMU ended while ferryd was down');
    if (rec !== undefined) rec.lastJob = stats;
    journal.finish(entry, 'failed', stats);
    return Promise.resolve();
  }
  // Set once a post-copy stream is found: the job can then be paused and resumed by hand.
  const postcopy: { link?: SourcePostcopy } = {};
  const ended = outcomeOf<{ name: string; stats: JobStats }>();
  domains.acquireJob(rec, {
    id: entry.jobId,
    operation: 'Outgoing migration',
    stats: async () => {
      if (qmp === undefined)
        return { type: 'Unbounded', operation: 'Outgoing migration', status: 'recovering' };
      const stats = jobStatsFrom(
        await qmp.execute<MigrationInfo>('query-migrate'),
        'Outgoing migration',
      );
      return postcopy.link?.describe(stats) ?? stats;
    },
    abort: async () => {
      const status = (await qmp?.execute<MigrationInfo>('query-migrate'))?.status ?? 'none';
      throw status.startsWith('postcopy')
        ? postcopyAbortRefused(entry.domainName, status)
        : new FerryError(
            'OPERATION_INVALID',
            'Requested operation is not valid: the job is being recovered after a ferryd restart',
          );
    },
    startPostcopy: () =>
      Promise.reject(
        new FerryError('OPERATION_INVALID', 'Requested operation is not valid: no job to switch'),
      ),
    pausePostcopy: async () => {
      if (postcopy.link === undefined) throw notInPostcopy();
      await postcopy.link.pause();
    },
    resumePostcopy: async (destUri) => {
      if (postcopy.link === undefined) throw notInPostcopy();
      await postcopy.link.resumeNow(destUri);
      return await ended.promise;
    },
  });
  return decideSource(ctx, rec, entry, postcopy).then(
    (stats) => {
      ended.settle({ name: entry.flags.dname ?? entry.domainName, stats });
      domains.releaseJob(rec, stats);
    },
    (err: unknown) => {
      ended.settle(undefined, err);
      domains.releaseJob(rec, failedJob('Outgoing migration', messageOf(err)));
      throw err;
    },
  );
}

function notInPostcopy(): FerryError {
  return new FerryError(
    'OPERATION_INVALID',
    'Requested operation is not valid: the recovered job is not a paused post-copy migration',
  );
}

async function decideSource(
  ctx: RecoveryContext,
  rec: DomainRecord,
  entry: SourceEntry,
  postcopy: { link?: SourcePostcopy },
): Promise<JobStats> {
  const { domains, journal, log } = ctx;
  const qmp = rec.proc?.qmp;
  const info =
    qmp === undefined
      ? undefined
      : await qmp.execute<MigrationInfo>('query-migrate').catch(() => undefined);
  const inPostcopy = (info?.status ?? '').startsWith('postcopy');
  if (entry.phase === 'switching' || inPostcopy) {
    if (inPostcopy && qmp !== undefined) await resumeIfPaused(ctx, qmp, entry, postcopy);
    const settled = await settleAfterSwitchover(ctx, rec, { ...entry, phase: 'switching' });
    log.info({ domain: entry.domainName, outcome: settled.outcome }, 'recovered source job');
    return settled.stats;
  }
  await qmp?.execute('migrate_cancel').catch(() => undefined);
  if (qmp !== undefined)
    await cancelLeftoverMirrors(qmp).catch((err: unknown) => {
      log.error({ domain: entry.domainName, err: messageOf(err) }, 'cannot stop the disk mirrors');
    });
  await domains.resumeAfterFailedMigration(rec, entry.wasRunning);
  void tellDestinationToDiscard(entry);
  const stats = failedJob(
    'Outgoing migration',
    `ferryd restarted during the job (phase ${entry.phase}); the migration was rolled back and the guest stays on this host`,
  );
  journal.finish(entry, 'failed', stats);
  log.info({ domain: entry.domainName }, 'recovered source job: rolled back');
  return stats;
}

/** Best effort: the destination also discards by itself when this ferryd's connection drops. */
async function tellDestinationToDiscard(entry: SourceEntry): Promise<void> {
  if (entry.destJobId === undefined) return;
  try {
    const peer = await connectPeer(entry.destUri);
    try {
      await peer.call('migration.finish', {
        jobId: entry.destJobId,
        success: false,
        suspend: false,
        persistent: false,
      });
    } finally {
      peer.close();
    }
  } catch {
    // Unreachable or already cleaned up: nothing more to do from here.
  }
}

/**
 * Follows a post-copy stream found after a restart until it ends, resuming it whenever it is
 * (or becomes) paused, as a live job does; then closes the link, so the destination finishes
 * the job by itself and settle.ts learns the outcome from it.
 */
async function resumeIfPaused(
  ctx: RecoveryContext,
  qmp: QmpClient,
  entry: SourceEntry,
  postcopy: { link?: SourcePostcopy },
): Promise<void> {
  const switching: SourceEntry = { ...entry, phase: 'switching' };
  const link = new SourcePostcopy(
    {
      qmp,
      entry: switching,
      journal: ctx.journal,
      log: ctx.log,
      keepalive: ctx.keepalive,
      autoResume: ctx.autoResume ?? true,
      switchOver: () => undefined,
      switchedOver: () => true,
      lostBeforeSwitchover: () => undefined,
      cancel: () => Promise.resolve(),
      handOver: async (peer) => {
        await peer.call('migration.finish', {
          jobId: entry.destJobId ?? '',
          success: true,
          suspend: entry.flags.suspend,
          persistent: entry.flags.persistent,
          postcopy: true,
        });
      },
    },
    undefined,
  );
  postcopy.link = link;
  try {
    for (;;) {
      const wake = nextMigrationEvent(qmp);
      const status = (await qmp.execute<MigrationInfo>('query-migrate')).status ?? 'none';
      if (!status.startsWith('postcopy')) return;
      link.onStatus(status);
      await wake;
    }
  } catch (err) {
    ctx.log.warn(
      { domain: entry.domainName, err: messageOf(err) },
      'recovered post-copy stream could not be resumed; asking the destination',
    );
  } finally {
    link.end();
    link.peer?.close();
  }
}
