/**
 * The destination side of a migration (libvirt's qemuMigrationDst*): prepare starts QEMU
 * with `-incoming defer` and opens the incoming port; finish runs the received guest, or
 * throws the half-received one away. A source that disappears before finish counts as a
 * failed job: the destination then cleans up by itself.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { crashPoint } from '../common/crash-point.js';
import { FerryError, messageOf } from '../common/errors.js';
import { parseDomainXml } from '../domain/xml/index.js';
import type { ActiveJob, DomainManager, DomainRecord, Logger } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { JobStats } from '../rpc/schema/migration.js';
import type { DestinationEntry, JobOutcome, MigrationJournal } from './journal.js';
import { guestFailedError } from './guest-evidence.js';
import { watchGuestAfterSwitchover } from './guest-watch.js';
import { allocatePort, DEFAULT_PORT_RANGE } from './ports.js';
import { DEFAULT_MIGRATION_TLS_DIR, enableMigrationTls } from './tls.js';
import { failedJob, jobStatsFrom, nextMigrationEvent, type MigrationInfo } from './stats.js';

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
}

interface IncomingJob {
  id: string;
  rec: DomainRecord;
  entry: DestinationEntry;
  port: number;
  /** Set once the guest runs here; from then on it is never thrown away. */
  finished: boolean;
  resumed: boolean;
}

export interface DestinationOptions {
  domains: DomainManager;
  hostUuid: string;
  log: Logger;
  journal: MigrationJournal;
  portRange?: readonly [number, number];
  /** How long the guest is watched after the switch-over (ferryd.conf migration_watch_ms). */
  watchMs?: number;
  /** Certificates for TLS migrations (ferryd.conf migrate_tls_x509_cert_dir). */
  tlsDir?: string;
}

export class IncomingMigrations {
  readonly #jobs = new Map<string, IncomingJob>();
  /** Offline jobs prepared here and not finished yet: they have no QEMU, only an id. */
  readonly #offlineJobs = new Set<string>();
  readonly #opts: DestinationOptions;

  constructor(opts: DestinationOptions) {
    this.#opts = opts;
  }

  /**
   * Makes this host ready to receive. `onSourceGone` registers the cleanup for a source whose
   * connection closes before finish.
   */
  async prepare(
    req: PrepareRequest,
    onSourceGone: (cb: () => void) => void,
  ): Promise<{ migrateUri?: string; jobId: string }> {
    const { domains } = this.#opts;
    if (req.sourceHostUuid === this.#opts.hostUuid) {
      throw new FerryError(
        'OPERATION_INVALID',
        `internal error: Attempt to migrate guest to the same host ${this.#opts.hostUuid}`,
      );
    }
    const jobId = randomUUID();
    if (req.offline) {
      domains.define(req.xml);
      this.#offlineJobs.add(jobId);
      return { jobId };
    }
    const { def } = parseDomainXml(req.xml);
    const existedBefore = domains.find(def.uuid) !== undefined;
    const rec = await domains.startIncoming(def);
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
      const host = formatHost(listen);
      await qmp.execute('migrate-incoming', { uri: `tcp:${host}:${port}` });
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
      };
      this.#opts.journal.write(entry);
      const job: IncomingJob = { id: jobId, rec, entry, port, finished: false, resumed: false };
      this.#jobs.set(jobId, job);
      domains.acquireJob(
        rec,
        incomingJobHandle(job, qmp, () => this.#discard(job)),
      );
      onSourceGone(() => {
        if (!job.finished) {
          this.#opts.log.warn(
            { domain: def.name, job: jobId },
            'source went away before finish; discarding the incoming guest',
          );
          void this.#discard(job);
        } else if (job.resumed && this.#jobs.has(job.id)) {
          // Post-copy: the guest runs here; its last pages still arrive from the source QEMU.
          void this.#completeAlone(job);
        }
      });
      crashPoint('destination-prepared');
      const wildcard = listen === '0.0.0.0' || listen === '::';
      const advertised = wildcard ? formatHost(req.destHost ?? '127.0.0.1') : host;
      return { migrateUri: `tcp:${advertised}:${port}`, jobId };
    } catch (err) {
      await domains.discardIncoming(rec).catch(() => undefined);
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
    if (job === undefined) {
      // Offline: prepare already defined the domain; only the id is left to check.
      if (this.#offlineJobs.delete(p.jobId)) return { name: '', state: 'shut off' };
      this.#opts.log.warn({ job: p.jobId }, 'peer finished a migration job that does not exist');
      throw new FerryError(
        'OPERATION_INVALID',
        `Requested operation is not valid: no incoming migration job '${p.jobId}' on this host`,
      );
    }
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
        // the missing pages from the source on demand.
        await this.#waitFor(job, p.postcopy ? ['postcopy-active', 'completed'] : ['completed']);
        completed = !p.postcopy;
        job.finished = true;
        Object.assign(job.entry, {
          phase: 'resuming',
          persistent: p.persistent,
          suspend: p.suspend,
        });
        this.#opts.journal.write(job.entry);
        crashPoint('destination-resuming');
        await this.#opts.domains.finishIncoming(rec, !p.suspend, p.persistent);
        job.resumed = true;
        crashPoint('destination-resumed');
      }
      // After a post-copy switch the source calls again once the stream has completed; the
      // job (and its lock on the domain) lasts until then.
      if (p.postcopy) return { name: rec.def.name, state: rec.state };
      if (!completed) await this.#waitFor(job, ['completed']);
    } catch (err) {
      if (!job.resumed) await this.#discard(job);
      throw new FerryError(
        'OPERATION_FAILED',
        `Destination could not take over the guest: ${messageOf(err)}`,
        {
          cause: err,
        },
      );
    }
    this.#complete(job, p.stats);
    await this.#watchGuest(job, p.suspend);
    return { name: rec.def.name, state: rec.state };
  }

  /**
   * A completed stream is not proof that the guest survived it: watch it run here for a while
   * (guest-watch.ts) and turn a guest that failed into an error carrying the evidence.
   */
  async #watchGuest(job: IncomingJob, suspended: boolean): Promise<void> {
    const graceMs = this.#opts.watchMs ?? 0;
    if (suspended || graceMs <= 0) return;
    const { rec } = job;
    const verdict = await watchGuestAfterSwitchover(rec, { graceMs });
    if (verdict.ok) return;
    this.#opts.log.error(
      { domain: rec.def.name, evidence: verdict.evidence },
      'guest failed on the destination after the switch-over',
    );
    const err = guestFailedError(rec.def.name, verdict.evidence);
    if (rec.lastJob !== undefined) rec.lastJob = { ...rec.lastJob, error: err.message };
    job.entry = this.#opts.journal.finish(job.entry, 'completed', {
      ...(job.entry.stats ?? { type: 'Completed', status: 'completed' }),
      error: err.message,
    });
    throw err;
  }

  /**
   * Finishes or rolls back a job a previous ferryd left behind (see journal.ts): before
   * `resuming` the source never said the guest is ours, so the incoming QEMU is thrown
   * away; from `resuming` on the source counts on this host to run it, so it runs.
   */
  async recover(entry: DestinationEntry): Promise<void> {
    const { domains, journal, log } = this.#opts;
    const rec = domains.find(entry.domainUuid);
    if (entry.phase !== 'resuming' || rec?.proc === undefined) {
      const why =
        rec?.proc === undefined && entry.phase === 'resuming'
          ? 'the incoming QEMU ended while ferryd was down'
          : 'ferryd restarted before the source handed the guest over; incoming guest discarded';
      if (rec?.proc !== undefined) await domains.discardIncoming(rec);
      const stats = failedJob('Incoming migration', why);
      if (rec !== undefined) rec.lastJob = stats;
      journal.finish(entry, 'failed', stats);
      log.warn({ domain: entry.domainName, job: entry.jobId }, `recovered job: ${why}`);
      return;
    }
    const qmp = rec.proc.qmp;
    const job: IncomingJob = {
      id: entry.jobId,
      rec,
      entry,
      port: 0,
      finished: true,
      resumed: false,
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
    try {
      await this.#waitFor(job, ['postcopy-active', 'completed'], 60_000);
      await domains.finishIncoming(rec, !entry.suspend, entry.persistent);
      job.resumed = true;
      await this.#waitFor(job, ['completed'], Infinity);
      this.#complete(
        job,
        jobStatsFrom(await qmp.execute<MigrationInfo>('query-migrate'), 'Incoming migration'),
      );
      log.info(
        { domain: entry.domainName, job: entry.jobId },
        'recovered job: guest handed over and running',
      );
    } catch (err) {
      log.error(
        { domain: entry.domainName, err: messageOf(err) },
        'recovered job could not finish',
      );
      if (!job.resumed) await this.#discard(job);
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
    const final: JobStats = {
      ...(stats ?? { type: 'Completed', status: 'completed' }),
      operation: 'Incoming migration',
    };
    job.entry = this.#opts.journal.finish(job.entry, 'completed', final);
    this.#opts.domains.releaseJob(job.rec, final);
  }

  /** Ends a resumed post-copy job whose source ferryd went away: QEMU finishes the stream. */
  async #completeAlone(job: IncomingJob): Promise<void> {
    try {
      await this.#waitFor(job, ['completed'], Infinity);
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

  async #waitFor(job: IncomingJob, states: readonly string[], timeoutMs = 30_000): Promise<void> {
    const qmp = job.rec.proc?.qmp;
    if (qmp === undefined) throw new FerryError('OPERATION_FAILED', 'Destination QEMU exited');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Armed before the query, so a status change between the two is not missed.
      const wake = nextMigrationEvent(qmp);
      const info = await qmp.execute<MigrationInfo>('query-migrate');
      if (info.status !== undefined && states.includes(info.status)) return;
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

  async #discard(job: IncomingJob): Promise<void> {
    job.finished = true;
    if (!this.#jobs.delete(job.id)) return;
    const { domains } = this.#opts;
    const stats = failedJob('Incoming migration');
    domains.releaseJob(job.rec, stats);
    await domains.discardIncoming(job.rec);
    // Journaled after the QEMU is gone, so a crash in between discards again on restart.
    job.entry = this.#opts.journal.finish(job.entry, 'failed', stats);
  }
}

/** The job as domjobinfo, domjobabort and migrate-postcopy see it on the destination. */
function incomingJobHandle(
  job: IncomingJob,
  qmp: QmpClient,
  abort: () => Promise<void>,
): ActiveJob {
  return {
    id: job.id,
    operation: 'Incoming migration',
    stats: async () =>
      jobStatsFrom(await qmp.execute<MigrationInfo>('query-migrate'), 'Incoming migration'),
    abort,
    startPostcopy: () =>
      Promise.reject(
        new FerryError('OPERATION_INVALID', 'Post-copy is switched on the source host'),
      ),
  };
}

/** An address or name as it goes into QEMU's `tcp:HOST:PORT` (IPv6 in brackets). */
function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
