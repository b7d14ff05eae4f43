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
import type { CpuService } from '../cpu/service.js';
import { crashPoint } from '../common/crash-point.js';
import { FerryError, messageOf } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import type { DomainDef } from '../domain/def.js';
import { formatDomainXml } from '../domain/xml/index.js';
import type { DomainManager, DomainRecord, Logger } from '../host/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';
import type { JobStats, MigrateFlags } from '../rpc/schema/migration.js';
import { AutoPolicyRunner, autoOptions } from './auto-policy.js';
import { capabilitiesFor, checkFlags, checkResumeFlags, parametersFor } from './flags.js';
import { MigrationError } from './errors.js';
import type { MigrationJournal, SourceEntry } from './journal.js';
import { connectPeer, type PeerClient } from './peer.js';
import { afterSwitchoverFailure } from './settle.js';
import { outcomeOf, outgoingJobHandle } from './source-job.js';
import { explainSourceExit } from './source-exit.js';
import { SourcePostcopy } from './source-postcopy.js';
import { offline } from './source-offline.js';
import { SourceStorage } from './storage/source-storage.js';
import { failedStats, failureMessage, watch, type JobControl } from './source-watch.js';
import { checkMigrationTlsFiles, disableMigrationTls, enableMigrationTls } from './tls.js';
import {
  firstFailure,
  runPreflight,
  warningsOf,
  type PreflightServices,
} from '../preflight/index.js';

export interface SourceOptions {
  domains: DomainManager;
  hostUuid: string;
  log: Logger;
  journal: MigrationJournal;
  /** Keepalive on the connection to the destination ferryd (ferryd.conf keepalive_*). */
  keepalive?: KeepaliveOptions | undefined;
  /**
   * ferryd.conf postcopy_auto_resume (default true): a post-copy stream paused by a broken
   * link is resumed by ferryd itself; false waits for `ferry migrate --postcopy-resume`.
   */
  autoResume?: boolean | undefined;
  /** Certificates for `--tls` (ferryd.conf migrate_tls_x509_cert_dir). */
  tlsDir: string;
  /** This host's CPU, sent with prepare so the destination can check the guest's CPU. */
  cpu?: CpuService | undefined;
  /** The preflight every migration runs first (absent: none, e.g. in unit tests). */
  preflight?: PreflightServices | undefined;
  /**
   * Held from the destination's prepare to the stream's completion (a fleet run bounds how
   * many of its streams run at once with it); absent: no bound.
   */
  streamSlot?: (() => Promise<() => void>) | undefined;
}

/** Migrates `ref` to the ferryd at `destUri`; resolves with the completed job's statistics. */
export async function migrateOut(
  opts: SourceOptions,
  ref: string,
  destUri: string,
  flags: MigrateFlags,
  onProgress: (stats: JobStats) => void,
): Promise<{ name: string; stats: JobStats; warnings?: string[] }> {
  const { domains } = opts;
  const rec = domains.get(ref);
  // --auto implies --live (checkFlags refuses it with --offline).
  if (flags.auto === true && !flags.offline) flags = { ...flags, live: true };
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
    const warnings = await preflight(opts, ref, destUri, flags, peer);
    const base = flags.offline ? rec.def : (rec.liveDef ?? rec.def);
    const def: DomainDef = flags.dname === undefined ? base : { ...base, name: flags.dname };
    const result: { name: string; stats: JobStats; warnings?: string[] } = flags.offline
      ? await offline(opts, rec, def, { peer, uri: destUri }, flags, onProgress)
      : await live(opts, rec, def, { peer, uri: destUri }, flags, onProgress);
    const all = [...warnings, ...(result.warnings ?? [])];
    return all.length === 0 ? result : { ...result, warnings: all };
  } finally {
    peer.close();
  }
}

/**
 * The begin phase's preflight (without measurements), before anything changes: throws
 * PREFLIGHT_FAILED with the first failing check's reason; returns the warnings to pass on.
 */
async function preflight(
  opts: SourceOptions,
  ref: string,
  destUri: string,
  flags: MigrateFlags,
  peer: PeerClient,
): Promise<string[]> {
  if (opts.preflight === undefined) return [];
  const report = await runPreflight(
    opts.preflight,
    { domain: ref, destUri, flags, measure: { bandwidth: false, dirtyRate: false } },
    peer,
  );
  opts.log.info(
    { domain: report.domain, verdict: report.verdict, ms: report.elapsedMs },
    'migration preflight',
  );
  const failed = firstFailure(report.checks);
  if (failed !== undefined) throw new FerryError('PREFLIGHT_FAILED', `preflight failed: ${failed}`);
  return warningsOf(report.checks);
}

/**
 * `migrate --postcopy-resume`: resumes the paused post-copy migration of `ref` through
 * `destUri` now (one try; its error is the caller's, and the job stays paused), then lasts
 * until the job ends, reporting its progress. Nothing changes when there is no such job.
 */
export async function resumeMigrationOut(
  opts: SourceOptions,
  ref: string,
  destUri: string,
  flags: MigrateFlags,
  onProgress: (stats: JobStats) => void,
): Promise<{ name: string; stats: JobStats }> {
  checkResumeFlags(flags);
  parseConnectionUri(destUri);
  const rec = opts.domains.get(ref);
  const job = rec.job;
  if (job?.operation !== 'Outgoing migration' || job.resumePostcopy === undefined)
    throw new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: domain '${rec.def.name}' has no paused post-copy migration to resume`,
    );
  opts.log.info({ domain: rec.def.name, dest: destUri }, 'post-copy resume requested');
  return job.resumePostcopy(destUri, onProgress);
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
  /** Journals a phase before the step it announces (see journal.ts). */
  const enter = (phase: SourceEntry['phase'], point?: string): void => {
    entry.phase = phase;
    journal.write(entry);
    if (point !== undefined) crashPoint(point);
  };
  const switchedOver = (): boolean => entry.phase === 'switching';
  // From here on the destination may run the guest: the source never resumes it on its own.
  const switchOver = (): void => {
    if (!switchedOver()) enter('switching', 'source-switching');
  };
  const finish = (peer: PeerClient, postcopy: boolean, stats?: JobStats): Promise<unknown> =>
    peer.call('migration.finish', {
      jobId: entry.destJobId ?? '',
      success: true,
      suspend: flags.suspend,
      persistent: flags.persistent,
      postcopy,
      ...(stats === undefined ? {} : { stats }),
    });
  // The link to the destination: a destination that dies (its socket closes) or hangs
  // (keepalive gives up) before the switch-over ends the job at once, nobody being there to
  // run the guest; in post-copy it pauses the stream until the link is back.
  const link = new SourcePostcopy(
    {
      qmp,
      entry,
      journal,
      log,
      keepalive: opts.keepalive,
      autoResume: opts.autoResume ?? true,
      switchOver,
      switchedOver,
      lostBeforeSwitchover: (reason) => {
        if (!control.aborted) control.peerLost ??= reason;
      },
      cancel: async () => {
        if (!control.aborted) await qmp.execute('migrate_cancel').catch(() => undefined);
      },
      handOver: async (peer) => {
        await finish(peer, true);
      },
    },
    dest.peer,
  );
  const progress = new Set([onProgress]);
  const report = (stats: JobStats): void => {
    for (const cb of progress) cb(stats);
  };
  const ended = outcomeOf<{ name: string; stats: JobStats }>();
  let storage: SourceStorage | undefined;
  domains.acquireJob(
    rec,
    outgoingJobHandle({
      id: jobId,
      domainName: rec.def.name,
      qmp,
      flags,
      control,
      link,
      switchedOver,
      progress,
      ended,
      withDisks: (stats) => storage?.withDisks(stats) ?? Promise.resolve(stats),
    }),
  );
  // Kept now: the record forgets its log once QEMU has gone.
  const qemuLog = rec.qemuLog;
  try {
    const result = await perform();
    ended.settle(result);
    return result;
  } catch (err) {
    const failure = switchedOver() ? err : await explainSourceExit(proc, qemuLog, def.name, err);
    ended.settle(undefined, failure);
    throw failure;
  } finally {
    link.end();
    link.peer?.close();
  }

  async function perform(): Promise<{ name: string; stats: JobStats }> {
    let guestFailure: FerryError | undefined;
    let stats: JobStats;
    let releaseSlot: (() => void) | undefined;
    try {
      enter('begin', 'source-begin');
      // Before anything changes: a missing certificate is the user's to fix, not a rollback.
      if (flags.tls) checkMigrationTlsFiles(opts.tlsDir, 'client');
      // Which disks are copied, and proof that the others are shared: before anything changes.
      storage = await SourceStorage.begin(await domains.resolveDisks(def), flags);
      const disks = storage;
      const destHost = parseConnectionUri(dest.uri).host;
      // Without it the destination assumes its own CPU; a probe failure must not stop the job.
      const sourceHostCpu = await opts.cpu?.hostModel().catch(() => undefined);
      if (!flags.live && entry.wasRunning) await domains.pauseForMigration(rec);
      // From here to the completion the two QEMUs copy flat out: a fleet run bounds how many do.
      releaseSlot = await opts.streamSlot?.();
      const preparing = link.requirePeer().call('migration.prepare', {
        xml: formatDomainXml(def),
        sourceHostUuid: opts.hostUuid,
        offline: false,
        persistent: flags.persistent,
        capabilities: capabilitiesFor(flags, 'destination'),
        parameters: parametersFor(flags, 'destination', rec.tuning),
        ...(flags.listenAddress === undefined ? {} : { listenAddress: flags.listenAddress }),
        ...(destHost === undefined ? {} : { destHost }),
        tls: flags.tls,
        ...(sourceHostCpu === undefined ? {} : { sourceHostCpu }),
        ...(def.devices.disks.length === 0 ? {} : { disks: disks.prepareParams() }),
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
      const [prepared] = await Promise.all([preparing.finally(() => disks.probed()), settingUp]);
      entry.destJobId = prepared.jobId;
      enter('prepared', 'source-prepared');
      // The disks first: memory moves once every copied disk is in sync.
      if (disks.copying)
        log.info(
          { domain: def.name, disks: disks.plan.copy.length, job: jobId },
          'disk copy started',
        );
      await disks.copy(
        qmp,
        prepared.nbd === undefined
          ? undefined
          : { ...prepared.nbd, tlsHostname: flags.tls ? destHost : undefined },
        report,
        () => (control.aborted ? failureMessage(undefined, control) : control.peerLost),
      );
      const uri = flags.migrateUri ?? prepared.migrateUri;
      if (uri === undefined)
        throw new MigrationError('prepare', 'Destination gave no migration URI');
      // An abort asked before the stream (waiting for a slot, preparing) has nothing to cancel.
      if (control.aborted) throw failureMessage(undefined, control);
      log.info({ domain: def.name, uri, job: jobId }, 'migration started');
      enter('performing');
      await qmp.execute('migrate', { uri });
      crashPoint('source-performing');
      const auto =
        flags.auto === true
          ? new AutoPolicyRunner(qmp, control, log, def.name, autoOptions(flags, rec.tuning))
          : undefined;
      stats = await watch(qmp, flags, control, rec, domains, report, {
        onPostcopy: () => link.entered(),
        onPostcopyStatus: (status) => link.onStatus(status),
        describe: (s) => link.describe(s),
        withDisks: (s) => disks.withDisks(s),
        onPreSwitchover: () => disks.complete(),
        ...(auto === undefined ? {} : { onPrecopySample: (s: JobStats) => auto.onSample(s) }),
      });
      releaseSlot?.();
      log.info({ domain: def.name, job: jobId }, 'migration stream completed');
      stats = disks.final(stats);
      switchOver();
      guestFailure = await finish(link.requirePeer(), false, stats).then(
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
      link.end();
      if (switchedOver()) return await afterSwitchoverFailure(opts, rec, entry, err);
      const failed = await failedStats(qmp, control.aborted);
      await qmp.execute('migrate_cancel').catch(() => undefined);
      // The mirrors stop while their NBD targets still exist: the destination's QEMU goes next.
      await storage?.abort().catch((e: unknown) => {
        log.error({ domain: def.name, err: messageOf(e) }, 'cannot stop the disk mirrors');
      });
      if (entry.destJobId !== undefined && control.peerLost === undefined) {
        await link
          .requirePeer()
          .call('migration.finish', {
            jobId: entry.destJobId,
            success: false,
            suspend: false,
            persistent: false,
          })
          .catch(() => undefined);
      }
      await domains.resumeAfterFailedMigration(rec, entry.wasRunning).catch((e: unknown) => {
        log.error({ domain: def.name, err: messageOf(e) }, 'cannot resume the source guest');
      });
      const error = failureMessage(err, control);
      const final = { ...failed, error: error.message };
      journal.finish(entry, control.aborted ? 'cancelled' : 'failed', final);
      domains.releaseJob(rec, final);
      throw error;
    } finally {
      releaseSlot?.();
    }
    if (guestFailure !== undefined) throw guestFailure;
    return { name: def.name, stats };
  }
}
