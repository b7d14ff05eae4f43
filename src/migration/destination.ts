/**
 * The destination side of a migration (libvirt's qemuMigrationDst*): prepare starts QEMU
 * with `-incoming defer` and opens the incoming port; finish runs the received guest, or
 * throws the half-received one away. A source that disappears before finish counts as a
 * failed job: the destination then cleans up by itself, unless post-copy has reached this
 * QEMU: the guest is this host's from then on, a silent link pauses the stream, and
 * `resume` (migration.resume) takes it up again when the source is back
 * (incoming-postcopy.ts).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { crashPoint } from '../common/crash-point.js';
import { FerryError, messageOf } from '../common/errors.js';
import { parseDomainXml } from '../domain/xml/index.js';
import type { DomainManager, Logger } from '../host/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';
import type { JobStats } from '../rpc/schema/migration.js';
import type { DestinationEntry, JobOutcome, MigrationJournal } from './journal.js';
import {
  endedJobAnswer,
  followMigrationStatus,
  HANDOVER_STATES,
  incomingJobHandle,
  incomingStatus,
  isPostcopy,
  waitForStatus,
  watchReceivedGuest,
  type IncomingJob,
  type PrepareRequest,
  type SourceConnection,
} from './incoming-job.js';
import {
  journalPostcopyStatus,
  noRunningJob,
  statusAfterRestart,
  pauseOnSourceLoss,
  reopenStream,
} from './incoming-postcopy.js';
import { IncomingOffline } from './incoming-offline.js';
import { advertisedHost, allocatePort, DEFAULT_PORT_RANGE, streamUris } from './ports.js';
import { requireRunnableCpu, type CpuService } from '../cpu/service.js';
import { exportIncomingDisks, prepareIncomingDisks } from './storage/destination-storage.js';
import { stopDiskExports } from './storage/nbd-export.js';
import { refreshNfsDisks } from './storage/nfs-refresh.js';
import { removeCreated } from './storage/targets.js';
import { DEFAULT_MIGRATION_TLS_DIR, enableMigrationTls } from './tls.js';

export type { PrepareRequest, SourceConnection } from './incoming-job.js';
import { failedJob, jobStatsFrom, type MigrationInfo } from './stats.js';

export interface DestinationOptions {
  domains: DomainManager;
  hostUuid: string;
  log: Logger;
  journal: MigrationJournal;
  portRange?: readonly [number, number];
  /** How long the guest is watched after the switch-over (ferryd.conf migration_watch_ms). */
  watchMs?: number;
  /** Keepalive on each source's connection (ferryd.conf keepalive_*): a dead link pauses post-copy. */
  keepalive?: KeepaliveOptions | undefined;
  /** Certificates for TLS migrations (ferryd.conf migrate_tls_x509_cert_dir). */
  tlsDir?: string;
  /** ferryd's run directory: the sockets and logs of offline disk copies. */
  runDir: string;
  /** Checks the guest's CPU against this host before QEMU starts (absent: no check). */
  cpu?: CpuService | undefined;
}

export class IncomingMigrations {
  readonly #jobs = new Map<string, IncomingJob>();
  /** Offline jobs prepared here and not finished yet: no QEMU, maybe a disk copy. */
  readonly #offline: IncomingOffline;
  readonly #opts: DestinationOptions;

  constructor(opts: DestinationOptions) {
    this.#opts = opts;
    this.#offline = new IncomingOffline({
      domains: opts.domains,
      log: opts.log,
      runDir: opts.runDir,
      portRange: opts.portRange ?? DEFAULT_PORT_RANGE,
    });
  }

  /**
   * Makes this host ready to receive. A `source` connection that closes before finish ends
   * the job (see #sourceGone).
   */
  async prepare(
    req: PrepareRequest,
    source: SourceConnection,
  ): Promise<{
    migrateUri?: string;
    jobId: string;
    nbd?: { host: string; port: number };
    warnings?: string[];
  }> {
    const { domains } = this.#opts;
    if (req.sourceHostUuid === this.#opts.hostUuid) {
      throw new FerryError(
        'OPERATION_INVALID',
        `internal error: Attempt to migrate guest to the same host ${this.#opts.hostUuid}`,
      );
    }
    const jobId = randomUUID();
    if (req.offline)
      return this.#offline.prepare(
        req,
        source,
        new Set([...this.#jobs.values()].map((j) => j.port)),
      );
    const { def } = parseDomainXml(req.xml);
    // Before anything starts: a CPU this host cannot run is refused (CPU_INCOMPATIBLE).
    if (this.#opts.cpu !== undefined)
      await requireRunnableCpu(this.#opts.cpu, def.cpu, req.sourceHostCpu);
    const existedBefore = domains.find(def.uuid) !== undefined;
    const disks = req.disks;
    let created: string[] = [];
    if (disks !== undefined) {
      domains.checkPolicy(def);
      ({ created } = await prepareIncomingDisks(await domains.resolveDisks(def), disks));
    }
    const rec = await domains.startIncoming(def).catch((err: unknown) => {
      removeCreated(created);
      throw err;
    });
    const proc = rec.proc;
    try {
      if (proc === undefined)
        throw new FerryError('OPERATION_FAILED', 'Destination QEMU is not running');
      const qmp = proc.qmp;
      await qmp.execute('migrate-set-capabilities', { capabilities: req.capabilities });
      if (Object.keys(req.parameters).length > 0)
        await qmp.execute('migrate-set-parameters', req.parameters);
      if (req.tls === true)
        await enableMigrationTls(qmp, this.#opts.tlsDir ?? DEFAULT_MIGRATION_TLS_DIR, 'server');
      const listen = req.listenAddress ?? '127.0.0.1';
      const taken = new Set([...this.#jobs.values()].map((j) => j.port));
      const port = await allocatePort(listen, this.#opts.portRange ?? DEFAULT_PORT_RANGE, taken);
      const uris = streamUris(listen, port, req.destHost);
      await qmp.execute('migrate-incoming', { uri: uris.listen });
      const copying = disks !== undefined && disks.copy.length > 0;
      const nbdPort = copying
        ? await exportIncomingDisks(qmp, disks, {
            listen,
            range: this.#opts.portRange ?? DEFAULT_PORT_RANGE,
            taken: new Set([...taken, port]),
            tls: req.tls === true,
          })
        : undefined;
      const entry: DestinationEntry = {
        role: 'destination',
        jobId,
        domainUuid: def.uuid,
        domainName: def.name,
        startedAt: Date.now(),
        phase: 'prepared',
        sourceHostUuid: req.sourceHostUuid,
        existedBefore,
        persistent: req.persistent,
        suspend: false,
        listen,
        ...(req.destHost === undefined ? {} : { destHost: req.destHost }),
        ...(created.length === 0 ? {} : { createdImages: created }),
        ...(copying ? { diskExports: true } : {}),
      };
      this.#opts.journal.write(entry);
      const job: IncomingJob = {
        id: jobId,
        rec,
        entry,
        port,
        listen,
        destHost: req.destHost,
        finished: false,
        resumed: false,
        sourceConnected: false,
        sourceGeneration: 0,
      };
      this.#jobs.set(jobId, job);
      domains.acquireJob(
        rec,
        incomingJobHandle(job, qmp, () => this.#discard(job)),
      );
      this.#followStatus(job);
      this.#followSource(job, source);
      crashPoint('destination-prepared');
      return {
        migrateUri: uris.advertised,
        jobId,
        ...(nbdPort === undefined
          ? {}
          : { nbd: { host: advertisedHost(listen, req.destHost), port: nbdPort } }),
      };
    } catch (err) {
      await domains.discardIncoming(rec).catch(() => undefined);
      removeCreated(created);
      throw err;
    }
  }

  /** Runs the received guest after a completed stream, or removes it after a failed one. */
  async finish(p: {
    jobId: string;
    success: boolean;
    suspend: boolean;
    persistent: boolean;
    postcopy: boolean;
    stats?: JobStats | undefined;
  }): Promise<{ name: string; state: string }> {
    const job = this.#jobs.get(p.jobId);
    if (this.#offline.has(p.jobId)) return this.#offline.finish(p.jobId, p.success);
    if (job === undefined) return endedJobAnswer(this.#opts, p.jobId);
    const { rec } = job;
    if (!p.success) {
      await this.#discard(job);
      return { name: rec.def.name, state: 'shut off' };
    }
    // Whether this call has already seen the stream complete (saves a query on the way out).
    let completed = false;
    try {
      if (!job.resumed) {
        // In post-copy the guest must run here before its memory has all arrived: it pulls
        // the missing pages from the source on demand (and waits for them while paused).
        const status = await waitForStatus(job, p.postcopy ? HANDOVER_STATES : ['completed']);
        completed = status === 'completed';
        Object.assign(job.entry, { persistent: p.persistent, suspend: p.suspend });
        await this.#runGuest(job);
      }
      // After a post-copy switch the source calls again once the stream has completed; the
      // job (and its lock on the domain) lasts until then.
      if (p.postcopy) return { name: rec.def.name, state: rec.state };
      if (!completed) await waitForStatus(job, ['completed']);
    } catch (err) {
      // Once post-copy has reached this host the guest lives here, whatever else failed.
      const status = await incomingStatus(job).catch(() => undefined);
      if (!job.resumed && !isPostcopy(status)) await this.#discard(job);
      throw new FerryError(
        'OPERATION_FAILED',
        `Destination could not take over the guest: ${messageOf(err)}`,
        {
          cause: err,
        },
      );
    }
    this.#complete(job, p.stats);
    if (!p.suspend) await watchReceivedGuest(job, this.#opts);
    return { name: rec.def.name, state: rec.state };
  }

  /**
   * The source asks to resume a paused post-copy stream (its link broke): QEMU listens for it
   * again on a fresh port (`migrate-recover`). A stream this QEMU still thinks active is
   * paused first: the source only asks when its own side of it is dead.
   */
  async resume(
    p: { jobId: string; listenAddress?: string | undefined },
    source: SourceConnection,
  ): Promise<{ migrateUri: string }> {
    const job = this.#jobs.get(p.jobId);
    if (job === undefined) throw noRunningJob(this.#opts.journal, p.jobId);
    const taken = new Set([...this.#jobs.values()].map((j) => j.port));
    const range = this.#opts.portRange ?? DEFAULT_PORT_RANGE;
    const migrateUri = await reopenStream(job, p.listenAddress ?? job.listen, range, taken);
    this.#followSource(job, source);
    this.#opts.log.info(
      { domain: job.rec.def.name, job: job.id, port: job.port },
      'post-copy: waiting for the source to resume the stream',
    );
    return { migrateUri };
  }

  /**
   * Finishes or rolls back a job a previous ferryd left behind (see journal.ts): before
   * `resuming` the source never said the guest is ours, so the incoming QEMU is thrown
   * away; from `resuming` on (or once post-copy reached this QEMU, paused or not) the source
   * counts on this host to run it, so it runs, and a paused stream waits for the source.
   */
  async recover(entry: DestinationEntry): Promise<void> {
    const { domains, journal, log } = this.#opts;
    const rec = domains.find(entry.domainUuid);
    const qmp = rec?.proc?.qmp;
    const status = qmp === undefined ? undefined : await statusAfterRestart(qmp);
    const ours = entry.phase === 'resuming' || isPostcopy(status);
    if (!ours || rec === undefined || qmp === undefined) {
      const why =
        qmp === undefined && ours
          ? 'the incoming QEMU ended while ferryd was down'
          : 'ferryd restarted before the source handed the guest over; incoming guest discarded';
      if (rec?.proc !== undefined) await domains.discardIncoming(rec);
      removeCreated(entry.createdImages ?? []);
      const stats = failedJob('Incoming migration', why);
      if (rec !== undefined) rec.lastJob = stats;
      journal.finish(entry, 'failed', stats);
      log.warn({ domain: entry.domainName, job: entry.jobId }, `recovered job: ${why}`);
      return;
    }
    const job: IncomingJob = {
      id: entry.jobId,
      rec,
      entry,
      port: 0,
      listen: entry.listen ?? '127.0.0.1',
      destHost: entry.destHost,
      finished: true,
      resumed: false,
      sourceConnected: false,
      sourceGeneration: 0,
    };
    this.#jobs.set(job.id, job);
    domains.acquireJob(
      rec,
      incomingJobHandle(job, qmp, () =>
        Promise.reject(
          new FerryError(
            'OPERATION_INVALID',
            'Requested operation is not valid: the guest is being handed over; it cannot be cancelled now',
          ),
        ),
      ),
    );
    job.status = status;
    this.#followStatus(job);
    if (status === 'postcopy-paused')
      journalPostcopyStatus(job, status, this.#opts.journal, this.#opts.log);
    try {
      await waitForStatus(job, HANDOVER_STATES, 60_000);
      await this.#runGuest(job);
      await this.#completeAlone(job);
      log.info(
        { domain: entry.domainName, job: entry.jobId },
        'recovered job: guest handed over and running',
      );
    } catch (err) {
      log.error(
        { domain: entry.domainName, err: messageOf(err) },
        'recovered job could not finish',
      );
      const now = await incomingStatus(job).catch(() => undefined);
      if (!job.resumed && !isPostcopy(now)) await this.#discard(job);
    }
  }

  /** The job's phase and outcome as this host's journal has them (`migration.status`). */
  status(jobId: string): { phase: DestinationEntry['phase'] | 'unknown'; outcome?: JobOutcome } {
    const live = this.#jobs.get(jobId);
    const entry = live?.entry ?? this.#opts.journal.get('destination', jobId);
    if (entry === undefined || entry.role !== 'destination') return { phase: 'unknown' };
    return entry.outcome === undefined
      ? { phase: entry.phase }
      : { phase: entry.phase, outcome: entry.outcome };
  }

  #complete(job: IncomingJob, stats: JobStats | undefined): void {
    if (!this.#jobs.delete(job.id)) return;
    job.unwatch?.();
    const final: JobStats = {
      ...(stats ?? { type: 'Completed', status: 'completed' }),
      operation: 'Incoming migration',
    };
    job.entry = this.#opts.journal.finish(job.entry, 'completed', final);
    this.#opts.domains.releaseJob(job.rec, final);
  }

  /**
   * Ends a post-copy job without its source ferryd (gone, or not back yet): QEMU finishes the
   * stream, paused or not, and the guest runs here. A source that is connected again when
   * the stream completes finishes the job itself (migration.finish, with its statistics).
   */
  async #completeAlone(job: IncomingJob): Promise<void> {
    try {
      await waitForStatus(job, ['completed'], Infinity);
      if (job.sourceConnected) return;
      if (!job.resumed) await this.#runGuest(job);
      const qmp = job.rec.proc?.qmp;
      const info = qmp === undefined ? {} : await qmp.execute<MigrationInfo>('query-migrate');
      this.#complete(job, jobStatsFrom(info, 'Incoming migration'));
    } catch (err) {
      this.#opts.log.error(
        { domain: job.rec.def.name, err: messageOf(err) },
        'post-copy stream did not complete after the source went away',
      );
    }
  }

  /** Runs the guest here (once, whoever asks first): from now on it is this host's. */
  #runGuest(job: IncomingJob): Promise<void> {
    job.running ??= (async () => {
      job.finished = true;
      job.entry.phase = 'resuming';
      this.#opts.journal.write(job.entry);
      crashPoint('destination-resuming');
      // The copied disks are final: from now on only the guest writes to them.
      const qmp = job.rec.proc?.qmp;
      if (job.entry.diskExports === true && qmp !== undefined) await stopDiskExports(qmp);
      const live = job.rec.liveDef;
      if (qmp !== undefined && live !== undefined)
        await refreshNfsDisks(qmp, await this.#opts.domains.resolveDisks(live));
      await this.#opts.domains.finishIncoming(job.rec, !job.entry.suspend, job.entry.persistent);
      job.resumed = true;
      crashPoint('destination-resumed');
    })().catch((err: unknown) => {
      job.running = undefined;
      throw err;
    });
    return job.running;
  }

  /** Follows QEMU's announced migration status: the job's cached status and journal. */
  #followStatus(job: IncomingJob): void {
    const qmp = job.rec.proc?.qmp;
    if (qmp === undefined) return;
    job.unwatch = followMigrationStatus(qmp, (status) => {
      job.status = status;
      journalPostcopyStatus(job, status, this.#opts.journal, this.#opts.log);
    });
  }

  /** Takes a source's connection in: its loss ends the job, or pauses a post-copy one. */
  #followSource(job: IncomingJob, source: SourceConnection): void {
    const generation = ++job.sourceGeneration;
    job.sourceConnected = true;
    if (this.#opts.keepalive !== undefined) source.startKeepalive(this.#opts.keepalive);
    source.onClose((reason) => {
      if (generation !== job.sourceGeneration) return;
      job.sourceConnected = false;
      this.#sourceGone(job, reason).catch((err: unknown) => {
        this.#opts.log.error({ domain: job.rec.def.name, err: messageOf(err) }, 'source loss');
      });
    });
  }

  /**
   * The source's ferryd went away. Before post-copy reached this QEMU the half-received guest
   * is thrown away (the source still runs it). After, it is this host's: a silent link
   * (keepalive) pauses the stream here too, and the job waits for the source to resume it,
   * or for the stream to end by itself when only the source ferryd went away.
   */
  async #sourceGone(job: IncomingJob, reason: FerryError | undefined): Promise<void> {
    if (!this.#jobs.has(job.id)) return;
    const { log } = this.#opts;
    const domain = job.rec.def.name;
    const status = await incomingStatus(job).catch(() => undefined);
    if (!job.finished && !isPostcopy(status)) {
      log.warn(
        { domain, job: job.id },
        'source went away before finish; discarding the incoming guest',
      );
      await this.#discard(job);
      return;
    }
    await pauseOnSourceLoss(job, status, reason, log);
    if (!job.finished) {
      // Post-copy reached this QEMU: the guest's state is here, so it is never discarded.
      job.finished = true;
      job.entry.phase = 'resuming';
      this.#opts.journal.write(job.entry);
    }
    await this.#completeAlone(job);
  }

  async #discard(job: IncomingJob): Promise<void> {
    job.finished = true;
    if (!this.#jobs.delete(job.id)) return;
    job.unwatch?.();
    const { domains } = this.#opts;
    const stats = failedJob('Incoming migration');
    domains.releaseJob(job.rec, stats);
    await domains.discardIncoming(job.rec);
    removeCreated(job.entry.createdImages ?? []);
    // Journaled after the QEMU is gone, so a crash in between discards again on restart.
    job.entry = this.#opts.journal.finish(job.entry, 'failed', stats);
  }
}
