/**
 * The source side of a migration (libvirt's qemuMigrationSrc*), driving the whole job peer to
 * peer:
 *
 *   CLI ──migration.start──▶ source ferryd ──migration.prepare──▶ destination ferryd
 *                            (begin: checks, job lock)           (QEMU -incoming defer, port)
 *                            perform: migrate, watch, policy ◀── tcp:HOST:PORT
 *                            ──migration.finish(success)──────▶  (cont, persist) or clean up
 *                            confirm: stop source QEMU (migrated), undefine if asked;
 *                            on failure: resume the source guest as it was
 *
 * Before the switch-over any failure leaves the guest running on the source.
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import { formatDomainXml } from '../domain/xml/index.js';
import type { DomainManager, DomainRecord, Logger } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';
import type { JobStats, MigrateFlags } from '../rpc/schema/migration.js';
import { capabilitiesFor, checkFlags, parametersFor } from './flags.js';
import { connectPeer, type PeerClient } from './peer.js';
import { jobStatsFrom, nextMigrationEvent, type MigrationInfo } from './stats.js';

export interface SourceOptions {
  domains: DomainManager;
  hostUuid: string;
  log: Logger;
  /** Keepalive on the connection to the destination ferryd (ferryd.conf keepalive_*). */
  keepalive?: KeepaliveOptions | undefined;
}

const PROGRESS_MS = 250;

/** A migration that did not complete, with the phase it failed in. */
export class MigrationError extends FerryError {
  override readonly name = 'MigrationError';
  constructor(
    readonly phase: 'begin' | 'prepare' | 'perform' | 'finish' | 'confirm',
    message: string,
    cause?: unknown,
  ) {
    super(
      phase === 'begin' ? 'INVALID_ARG' : 'OPERATION_FAILED',
      message,
      cause === undefined ? {} : { cause },
    );
  }
}

/** Migrates `ref` to the ferryd at `destUri`; resolves with the completed job's statistics. */
export async function migrateOut(
  opts: SourceOptions,
  ref: string,
  destUri: string,
  flags: MigrateFlags,
  onProgress: (stats: JobStats) => void,
): Promise<{ name: string; stats: JobStats }> {
  const { domains } = opts;
  const rec = domains.get(ref);
  checkFlags(flags, { active: rec.proc !== undefined, persistent: rec.persistent });
  const peer = await connectPeer(destUri, opts.keepalive);
  try {
    const info = await peer.call('host.info', {});
    if (info.hostUuid === opts.hostUuid) {
      throw new MigrationError(
        'begin',
        `Attempt to migrate guest to the same host ${info.hostUuid}`,
      );
    }
    const base = flags.offline ? rec.def : (rec.liveDef ?? rec.def);
    const def: DomainDef = flags.dname === undefined ? base : { ...base, name: flags.dname };
    if (flags.offline) return await offline(opts, rec, def, peer, flags);
    return await live(opts, rec, def, peer, flags, onProgress);
  } finally {
    peer.close();
  }
}

async function offline(
  opts: SourceOptions,
  rec: DomainRecord,
  def: DomainDef,
  peer: PeerClient,
  flags: MigrateFlags,
): Promise<{ name: string; stats: JobStats }> {
  const started = Date.now();
  const { jobId } = await peer.call('migration.prepare', {
    xml: formatDomainXml(def),
    sourceHostUuid: opts.hostUuid,
    offline: true,
    persistent: true,
    capabilities: [],
    parameters: {},
  });
  await peer.call('migration.finish', { jobId, success: true, suspend: false, persistent: true });
  const stats: JobStats = {
    type: 'Completed',
    operation: 'Outgoing migration',
    status: 'completed',
    timeElapsedMs: Date.now() - started,
  };
  rec.lastJob = stats;
  if (flags.undefineSource) opts.domains.undefine(rec.def.uuid);
  return { name: def.name, stats };
}

async function live(
  opts: SourceOptions,
  rec: DomainRecord,
  def: DomainDef,
  peer: PeerClient,
  flags: MigrateFlags,
  onProgress: (stats: JobStats) => void,
): Promise<{ name: string; stats: JobStats }> {
  const { domains, log } = opts;
  const proc = rec.proc;
  if (proc === undefined)
    throw new MigrationError('begin', 'Requested operation is not valid: domain is not running');
  const qmp = proc.qmp;
  const control: JobControl = { aborted: false, postcopyRequested: false };
  const jobId = `out-${Date.now().toString(36)}`;
  domains.acquireJob(rec, {
    id: jobId,
    operation: 'Outgoing migration',
    stats: async () =>
      jobStatsFrom(await qmp.execute<MigrationInfo>('query-migrate'), 'Outgoing migration'),
    abort: async () => {
      control.aborted = true;
      await qmp.execute('migrate_cancel');
    },
    startPostcopy: async () => {
      if (!flags.postcopy)
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: post-copy migration was not enabled (use --postcopy)',
        );
      control.postcopyRequested = true;
      await qmp.execute('migrate-start-postcopy');
    },
  });
  const wasRunning = rec.state === 'running';
  // A destination ferryd that dies (its socket closes) or hangs (keepalive gives up) before
  // the switch-over ends the job: nobody would be there to run the guest.
  peer.onClose((reason) => (control.peerLost ??= reason));
  let destJob: string | undefined;
  let switchedOver = false;
  try {
    if (!flags.live && wasRunning) await domains.pauseForMigration(rec);
    await qmp.execute('migrate-set-capabilities', {
      capabilities: capabilitiesFor(flags, 'source'),
    });
    await qmp.execute('migrate-set-parameters', parametersFor(flags, 'source', rec.tuning));
    const prepared = await peer.call('migration.prepare', {
      xml: formatDomainXml(def),
      sourceHostUuid: opts.hostUuid,
      offline: false,
      persistent: flags.persistent,
      capabilities: capabilitiesFor(flags, 'destination'),
      parameters: parametersFor(flags, 'destination', rec.tuning),
      ...(flags.listenAddress === undefined ? {} : { listenAddress: flags.listenAddress }),
    });
    destJob = prepared.jobId;
    const uri = flags.migrateUri ?? prepared.migrateUri;
    if (uri === undefined) throw new MigrationError('prepare', 'Destination gave no migration URI');
    log.info({ domain: def.name, uri, job: jobId }, 'migration started');
    await qmp.execute('migrate', { uri });
    const finish = (postcopy: boolean, stats?: JobStats): Promise<unknown> =>
      peer.call('migration.finish', {
        jobId: prepared.jobId,
        success: true,
        suspend: flags.suspend,
        persistent: flags.persistent,
        postcopy,
        ...(stats === undefined ? {} : { stats }),
      });
    const stats = await watch(qmp, flags, control, rec, domains, onProgress, async () => {
      // From here on the destination runs the guest: there is no way back to the source.
      switchedOver = true;
      await finish(true);
    });
    switchedOver = true;
    await finish(false, stats);
    await domains.stopMigrated(rec, flags.undefineSource);
    domains.releaseJob(rec, stats);
    log.info(
      { domain: def.name, job: jobId, ms: stats.timeElapsedMs, downtime: stats.totalDowntimeMs },
      'migration completed',
    );
    return { name: def.name, stats };
  } catch (err) {
    const failed = await failedStats(qmp, control.aborted);
    if (!switchedOver) {
      if (destJob !== undefined) {
        await peer
          .call('migration.finish', {
            jobId: destJob,
            success: false,
            suspend: false,
            persistent: false,
          })
          .catch(() => undefined);
      }
      await qmp.execute('migrate_cancel').catch(() => undefined);
      await domains.resumeAfterFailedMigration(rec, wasRunning).catch((e: unknown) => {
        log.error({ domain: def.name, err: messageOf(e) }, 'cannot resume the source guest');
      });
    }
    domains.releaseJob(rec, failed);
    if (control.aborted)
      throw new FerryError(
        'OPERATION_FAILED',
        "operation aborted: job 'migration out' canceled by client",
        { cause: err },
      );
    if (err instanceof FerryError) throw err;
    throw new MigrationError('perform', `Migration failed: ${messageOf(err)}`, err);
  }
}

/** What the job's other parts tell the watch loop. */
interface JobControl {
  aborted: boolean;
  postcopyRequested: boolean;
  /** Why the connection to the destination ferryd closed, once it has. */
  peerLost?: FerryError;
}

/** Polls QEMU until the job ends, reporting progress and applying the timeout policy. */
async function watch(
  qmp: QmpClient,
  flags: MigrateFlags,
  control: JobControl,
  rec: DomainRecord,
  domains: DomainManager,
  onProgress: (stats: JobStats) => void,
  onPostcopy: () => Promise<void>,
): Promise<JobStats> {
  const started = Date.now();
  let postcopyStarted = false;
  let lastProgress = 0;
  let timeoutApplied = false;
  for (;;) {
    // Armed before the query, so a status change between the two is not missed.
    const wake = nextMigrationEvent(qmp);
    const info = await qmp.execute<MigrationInfo>('query-migrate');
    const stats = jobStatsFrom(info, 'Outgoing migration');
    if (info.status === 'completed') {
      onProgress(stats);
      return stats;
    }
    if (info.status === 'failed' || info.status === 'cancelled') {
      throw new MigrationError(
        'perform',
        `migration ${info.status}${info['error-desc'] === undefined ? '' : `: ${info['error-desc']}`}`,
      );
    }
    if (control.peerLost !== undefined && !postcopyStarted) {
      throw new MigrationError(
        'perform',
        `operation failed: Lost connection to destination host (${control.peerLost.message})`,
        control.peerLost,
      );
    }
    if (info.status === 'postcopy-active' && !postcopyStarted) {
      postcopyStarted = true;
      await onPostcopy();
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
    await wake;
  }
}

async function failedStats(qmp: QmpClient, aborted: boolean): Promise<JobStats> {
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
