/**
 * Ending a source job whose outcome the source cannot decide alone: once the journal says
 * `switching`, the destination may already run the guest, so the source must not resume
 * it until the destination says it will not. Used when the connection to the destination
 * breaks after the switch-over, and by a source ferryd restarting mid-job.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../common/errors.js';
import type { DomainManager, DomainRecord, Logger } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { JobStats } from '../rpc/schema/migration.js';
import type { MigrationJournal, SourceEntry } from './journal.js';
import { MigrationError } from './errors.js';
import { connectPeer } from './peer.js';
import { failedJob, jobStatsFrom, type MigrationInfo } from './stats.js';

export interface SettleContext {
  domains: DomainManager;
  journal: MigrationJournal;
  log: Logger;
}

const RETRY_MS = 1000;
/** A stream still running after the switch-over (post-copy) is waited for this often. */
const STREAM_POLL_MS = 200;

/** How the destination answered: its job finished with the guest running there, or not. */
export type Settled =
  { outcome: 'completed'; stats: JobStats } | { outcome: 'failed'; why: string; stats: JobStats };

/**
 * Asks the destination (reconnecting until it answers) how the job ended there, then
 * confirms: stops the source QEMU when the guest runs on the destination, or resumes the
 * source guest when the destination threw its copy away. Writes the outcome to the journal.
 */
export async function settleAfterSwitchover(
  ctx: SettleContext,
  rec: DomainRecord,
  entry: SourceEntry,
): Promise<Settled> {
  const answer = await askDestination(ctx, entry);
  const qmp = rec.proc?.qmp;
  if (answer === 'completed') {
    const stats = qmp === undefined ? completedWithoutQemu() : await streamEnd(qmp);
    await ctx.domains.stopMigrated(rec, entry.flags.undefineSource);
    ctx.journal.finish(entry, 'completed', stats);
    return { outcome: 'completed', stats };
  }
  const why = 'the destination did not take over the guest';
  if (qmp !== undefined) {
    await qmp.execute('migrate_cancel').catch(() => undefined);
    await ctx.domains.resumeAfterFailedMigration(rec, entry.wasRunning).catch((err: unknown) => {
      ctx.log.error({ domain: rec.def.name, err: messageOf(err) }, 'cannot resume the guest');
    });
  }
  const stats = failedJob('Outgoing migration', why);
  ctx.journal.finish(entry, 'failed', stats);
  return { outcome: 'failed', why, stats };
}

/** Polls the destination's journal through `migration.status` until the job is done there. */
async function askDestination(
  ctx: SettleContext,
  entry: SourceEntry,
): Promise<'completed' | 'failed'> {
  const jobId = entry.destJobId;
  if (jobId === undefined) return 'failed';
  let lastLog = 0;
  for (;;) {
    try {
      const peer = await connectPeer(entry.destUri);
      try {
        const status = await peer.call('migration.status', { jobId });
        if (status.phase === 'done') return status.outcome === 'completed' ? 'completed' : 'failed';
        // No record: the destination never got this far, or lost its journal with its disk.
        if (status.phase === 'unknown') return 'failed';
      } finally {
        peer.close();
      }
    } catch (err) {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        ctx.log.warn(
          { domain: entry.domainName, dest: entry.destUri, err: messageOf(err) },
          'waiting for the destination to tell how the migration ended',
        );
      }
    }
    await sleep(RETRY_MS);
  }
}

/** After a post-copy switch the source QEMU still serves pages: wait for the stream's end. */
async function streamEnd(qmp: QmpClient): Promise<JobStats> {
  for (;;) {
    const info = await qmp.execute<MigrationInfo>('query-migrate').catch(() => undefined);
    if (info === undefined || !(info.status ?? '').startsWith('postcopy')) {
      return info === undefined ? completedWithoutQemu() : jobStatsFrom(info, 'Outgoing migration');
    }
    await sleep(STREAM_POLL_MS);
  }
}

function completedWithoutQemu(): JobStats {
  return { type: 'Completed', operation: 'Outgoing migration', status: 'completed' };
}

/**
 * The destination could not be told (or could not answer) after the switch-over: only it
 * knows whether the guest runs there, so ask it until it answers, then confirm or roll back.
 */
export async function afterSwitchoverFailure(
  opts: SettleContext,
  rec: DomainRecord,
  entry: SourceEntry,
  err: unknown,
): Promise<{ name: string; stats: JobStats }> {
  opts.log.warn(
    { domain: entry.domainName, err: messageOf(err) },
    'lost the destination after the switch-over; asking it how the job ended',
  );
  const settled = await settleAfterSwitchover(opts, rec, entry);
  if (settled.outcome === 'completed') {
    opts.domains.releaseJob(rec, settled.stats);
    return { name: entry.flags.dname ?? entry.domainName, stats: settled.stats };
  }
  opts.domains.releaseJob(rec, settled.stats);
  throw new MigrationError(
    'finish',
    `Migration failed: ${settled.why} (${messageOf(err)}); the guest stays on this host`,
    err,
  );
}
