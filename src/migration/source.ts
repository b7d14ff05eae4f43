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
import { crashPoint } from '../common/crash-point.js';
import { FerryError, messageOf } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import type { DomainDef } from '../domain/def.js';
import { formatDomainXml } from '../domain/xml/index.js';
import type { DomainManager, DomainRecord, Logger } from '../host/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';
import type { JobStats, MigrateFlags } from '../rpc/schema/migration.js';
import { capabilitiesFor, checkFlags, parametersFor } from './flags.js';
import { MigrationError } from './errors.js';
import type { MigrationJournal, SourceEntry } from './journal.js';
import { connectPeer, type PeerClient } from './peer.js';
import { settleAfterSwitchover } from './settle.js';
import { checkMigrationTlsFiles, disableMigrationTls, enableMigrationTls } from './tls.js';
import { failedStats, watch, type JobControl } from './source-watch.js';
import { jobStatsFrom, type MigrationInfo } from './stats.js';

export interface SourceOptions {
  domains: DomainManager;
  hostUuid: string;
  log: Logger;
  journal: MigrationJournal;
  /** Keepalive on the connection to the destination ferryd (ferryd.conf keepalive_*). */
  keepalive?: KeepaliveOptions | undefined;
  /** Certificates for `--tls` (ferryd.conf migrate_tls_x509_cert_dir). */
  tlsDir: string;
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
  const peer = await connectPeer(destUri, {
    keepalive: opts.keepalive,
    onWarning: (text) => opts.log.warn({ destUri }, text),
  });
  try {
    const info = await peer.call('host.info', {});
    if (info.hostUuid === opts.hostUuid) {
      throw new MigrationError(
        'begin',
        `internal error: Attempt to migrate guest to the same host ${info.hostUuid}`,
      );
    }
    const base = flags.offline ? rec.def : (rec.liveDef ?? rec.def);
    const def: DomainDef = flags.dname === undefined ? base : { ...base, name: flags.dname };
    if (flags.offline) return await offline(opts, rec, def, peer, flags);
    return await live(opts, rec, def, { peer, uri: destUri }, flags, onProgress);
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
  dest: { peer: PeerClient; uri: string },
  flags: MigrateFlags,
  onProgress: (stats: JobStats) => void,
): Promise<{ name: string; stats: JobStats }> {
  const { domains, log, journal } = opts;
  const { peer } = dest;
  const proc = rec.proc;
  if (proc === undefined)
    throw new MigrationError('begin', 'Requested operation is not valid: domain is not running');
  const qmp = proc.qmp;
  const control: JobControl = { aborted: false, postcopyRequested: false };
  const jobId = `out-${Date.now().toString(36)}`;
  const entry: SourceEntry = {
    role: 'source',
    jobId,
    domainUuid: rec.def.uuid,
    domainName: rec.def.name,
    startedAt: Date.now(),
    phase: 'begin',
    destUri: dest.uri,
    flags,
    wasRunning: rec.state === 'running',
  };
  domains.acquireJob(rec, {
    id: jobId,
    operation: 'Outgoing migration',
    stats: async () =>
      jobStatsFrom(await qmp.execute<MigrationInfo>('query-migrate'), 'Outgoing migration'),
    abort: async () => {
      if (entry.phase === 'switching')
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: the guest already runs on the destination',
        );
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
  /** Journals a phase before the step it announces (see journal.ts). */
  const enter = (phase: SourceEntry['phase'], point?: string): void => {
    entry.phase = phase;
    journal.write(entry);
    if (point !== undefined) crashPoint(point);
  };
  const switchedOver = (): boolean => entry.phase === 'switching';
  const switchOver = (): void => {
    // From here on the destination may run the guest: the source never resumes it on its own.
    if (!switchedOver()) enter('switching', 'source-switching');
  };
  // A destination ferryd that dies (its socket closes) or hangs (keepalive gives up) before
  // the switch-over ends the job at once: nobody would be there to run the guest.
  let guestFailure: FerryError | undefined;
  let stats: JobStats;
  const stopOnPeerLoss = peer.onClose((reason) => {
    if (switchedOver() || control.aborted) return;
    control.peerLost ??= reason;
    void qmp.execute('migrate_cancel').catch(() => undefined);
  });
  try {
    enter('begin', 'source-begin');
    // Before anything changes: a missing certificate is the user's to fix, not a rollback.
    if (flags.tls) checkMigrationTlsFiles(opts.tlsDir, 'client');
    const destHost = parseConnectionUri(dest.uri).host;
    if (!flags.live && entry.wasRunning) await domains.pauseForMigration(rec);
    const preparing = peer.call('migration.prepare', {
      xml: formatDomainXml(def),
      sourceHostUuid: opts.hostUuid,
      offline: false,
      persistent: flags.persistent,
      capabilities: capabilitiesFor(flags, 'destination'),
      parameters: parametersFor(flags, 'destination', rec.tuning),
      ...(flags.listenAddress === undefined ? {} : { listenAddress: flags.listenAddress }),
      ...(destHost === undefined ? {} : { destHost }),
      tls: flags.tls,
    });
    // Set up this side's QEMU while the destination starts its own (the longest step before
    // the stream). Should this fail, a prepared destination cleans up when the peer closes.
    const settingUp = (async () => {
      await qmp.execute('migrate-set-capabilities', {
        capabilities: capabilitiesFor(flags, 'source'),
      });
      await qmp.execute('migrate-set-parameters', parametersFor(flags, 'source', rec.tuning));
      if (flags.tls) await enableMigrationTls(qmp, opts.tlsDir, 'client', destHost);
      else await disableMigrationTls(qmp);
    })();
    const [prepared] = await Promise.all([preparing, settingUp]);
    entry.destJobId = prepared.jobId;
    enter('prepared', 'source-prepared');
    const uri = flags.migrateUri ?? prepared.migrateUri;
    if (uri === undefined) throw new MigrationError('prepare', 'Destination gave no migration URI');
    log.info({ domain: def.name, uri, job: jobId }, 'migration started');
    enter('performing');
    await qmp.execute('migrate', { uri });
    crashPoint('source-performing');
    const finish = (postcopy: boolean, stats?: JobStats): Promise<unknown> =>
      peer.call('migration.finish', {
        jobId: prepared.jobId,
        success: true,
        suspend: flags.suspend,
        persistent: flags.persistent,
        postcopy,
        ...(stats === undefined ? {} : { stats }),
      });
    stats = await watch(qmp, flags, control, rec, domains, onProgress, async () => {
      switchOver();
      await finish(true);
    });
    switchOver();
    guestFailure = await finish(false, stats).then(
      () => undefined,
      (err: unknown) => {
        // The stream completed and the guest ran on the destination, then failed there: the
        // job is over (never resume the source copy: the guest may have written to disks).
        if (err instanceof FerryError && err.code === 'GUEST_FAILED') return err;
        throw err;
      },
    );
    crashPoint('source-finished');
    await domains.stopMigrated(rec, flags.undefineSource);
    const final = guestFailure === undefined ? stats : { ...stats, error: guestFailure.message };
    journal.finish(entry, 'completed', final);
    domains.releaseJob(rec, final);
    log.info(
      { domain: def.name, job: jobId, ms: stats.timeElapsedMs, downtime: stats.totalDowntimeMs },
      'migration completed',
    );
  } catch (err) {
    stopOnPeerLoss();
    if (switchedOver()) return await afterSwitchoverFailure(opts, rec, entry, err);
    const failed = await failedStats(qmp, control.aborted);
    if (entry.destJobId !== undefined && control.peerLost === undefined) {
      await peer
        .call('migration.finish', {
          jobId: entry.destJobId,
          success: false,
          suspend: false,
          persistent: false,
        })
        .catch(() => undefined);
    }
    await qmp.execute('migrate_cancel').catch(() => undefined);
    await domains.resumeAfterFailedMigration(rec, entry.wasRunning).catch((e: unknown) => {
      log.error({ domain: def.name, err: messageOf(e) }, 'cannot resume the source guest');
    });
    const error = failureMessage(err, control);
    const final = { ...failed, error: error.message };
    journal.finish(entry, control.aborted ? 'cancelled' : 'failed', final);
    domains.releaseJob(rec, final);
    throw error;
  }
  if (guestFailure !== undefined) throw guestFailure;
  return { name: def.name, stats };
}

/** The error a failed (not switched-over) job reports. */
function failureMessage(err: unknown, control: JobControl): FerryError {
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

/**
 * The destination could not be told (or could not answer) after the switch-over: only it
 * knows whether the guest runs there, so ask it until it answers, then confirm or roll back.
 */
async function afterSwitchoverFailure(
  opts: SourceOptions,
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
