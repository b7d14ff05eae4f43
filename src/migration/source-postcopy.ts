/**
 * The source's connection to the destination ferryd during a live job, and what the source
 * does when it breaks once the stream is in post-copy (libvirt's post-copy recovery):
 *
 *   link silent (keepalive) ──▶ QMP migrate-pause: QEMU postcopy-paused at once, rather than
 *                               after the minutes TCP takes to give up on a pulled cable
 *   QEMU postcopy-paused ─────▶ journal it; try to resume (postcopy-resume.ts), each try:
 *                                 connect to the destination ferryd (or reuse a live link)
 *                                 ──migration.resume {jobId}──▶ migrate-recover on a new port
 *                                 ◀── tcp:ADDR:PORT
 *                                 QMP migrate {uri, resume: true}; wait until QEMU leaves
 *                                 postcopy-paused
 *   QEMU postcopy-active ──────▶ journal it; the job goes on as before
 *
 * Before post-copy a lost destination still cancels the job (the guest stays here). A
 * destination that no longer knows the job ends the tries: the caller then asks it how the
 * job ended (settle.ts).
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import type { Logger } from '../host/index.js';
import type { QmpClient } from '../qmp/index.js';
import { KeepaliveTimeoutError, type KeepaliveOptions } from '../rpc/index.js';
import type { JobStats } from '../rpc/schema/migration.js';
import type { MigrationJournal, SourceEntry } from './journal.js';
import { connectPeer, type PeerClient } from './peer.js';
import { PostcopyResumer, ResumeImpossibleError } from './postcopy-resume.js';
import { type MigrationInfo } from './stats.js';

/** How long QEMU may take to leave postcopy-paused after `migrate` with `resume`. */
const RESUME_START_MS = 30_000;
const POLL_MS = 100;

export interface SourcePostcopyOptions {
  qmp: QmpClient;
  /** The job's journal entry (shared with the job: phase and pause flag are written here). */
  entry: SourceEntry;
  journal: MigrationJournal;
  log: Logger;
  keepalive: KeepaliveOptions | undefined;
  /** ferryd.conf postcopy_auto_resume: resume by itself, or wait for --postcopy-resume. */
  autoResume: boolean;
  /** Journals the switch-over (idempotent): from now on the destination may run the guest. */
  switchOver(): void;
  /** True once switched over. */
  switchedOver(): boolean;
  /** The destination went away before the switch-over (`reason` explains the loss). */
  lostBeforeSwitchover(reason: FerryError): void;
  /** Cancels the stream: the destination went away before post-copy reached it. */
  cancel(): Promise<void>;
  /** Tells the destination, through `peer`, to run the guest (migration.finish, postcopy). */
  handOver(peer: PeerClient): Promise<void>;
}

export class SourcePostcopy {
  readonly #o: SourcePostcopyOptions;
  readonly #resumer: PostcopyResumer;
  #peer: PeerClient | undefined;
  #stopWatchingPeer: () => void;
  #handedOver = false;
  #userPaused = false;
  #fatal: FerryError | undefined;
  #ended = false;

  /** `peer` is the connection the job started with; none for a job taken up after a restart. */
  constructor(opts: SourcePostcopyOptions, peer: PeerClient | undefined) {
    this.#o = opts;
    this.#peer = peer;
    this.#stopWatchingPeer = peer === undefined ? () => undefined : this.#watchPeer(peer);
    const domain = opts.entry.domainName;
    this.#resumer = new PostcopyResumer({
      uri: opts.entry.destUri,
      attempt: (uri) => this.#attempt(uri),
      onTry: (uri, n) =>
        opts.log.warn(
          { domain, dest: uri, try: n },
          `post-copy paused; reconnecting to ${uri} (try ${n})`,
        ),
      onTryFailed: (uri, n, err) =>
        opts.log.warn({ domain, dest: uri, try: n, err: messageOf(err) }, 'resume try failed'),
    });
  }

  /** The current connection to the destination ferryd, if any. */
  get peer(): PeerClient | undefined {
    return this.#peer;
  }

  /** The current connection to the destination ferryd (a live job always has one). */
  requirePeer(): PeerClient {
    if (this.#peer === undefined)
      throw new FerryError('CONNECT_FAILED', 'No connection to the destination host');
    return this.#peer;
  }

  /** The stream entered post-copy: journal the switch-over, then hand the guest over. */
  async entered(): Promise<void> {
    this.#o.switchOver();
    await this.#handOver();
  }

  /**
   * Each QEMU status seen while in post-copy. Journals pauses and their end, starts the resume
   * tries; throws when resuming turned out impossible (the destination lost the job).
   */
  onStatus(status: string): void {
    if (this.#fatal !== undefined) throw this.#fatal;
    const { entry, journal, log } = this.#o;
    if (status === 'postcopy-paused') {
      if (entry.postcopyPaused !== true) {
        entry.postcopyPaused = true;
        journal.write(entry);
        log.warn({ domain: entry.domainName }, 'post-copy paused');
      }
      if (!this.#resumer.running) this.#startResuming();
    } else if (status === 'postcopy-active' && entry.postcopyPaused === true) {
      entry.postcopyPaused = false;
      journal.write(entry);
      log.info({ domain: entry.domainName, dest: this.#resumer.uri }, 'post-copy resumed');
    }
  }

  /** `stats` with what is being done about a pause (domjobinfo, progress). */
  describe(stats: JobStats): JobStats {
    const recovery = stats.status === 'postcopy-paused' ? this.#resumer.describe() : undefined;
    return recovery === undefined ? stats : { ...stats, postcopyRecovery: recovery };
  }

  /**
   * domjobabort --postcopy: pause the post-copy stream (or, already paused, stop the automatic
   * tries); it then waits for `ferry migrate --postcopy-resume`.
   */
  async pause(): Promise<void> {
    const status = await statusOf(this.#o.qmp);
    if (status === 'postcopy-paused') {
      this.#userPaused = true;
      this.#resumer.holdForUser();
      return;
    }
    if (status !== 'postcopy-active')
      throw new FerryError(
        'OPERATION_INVALID',
        `Requested operation is not valid: the migration is not in post-copy (status ${status})`,
      );
    this.#userPaused = true;
    await this.#o.qmp.execute('migrate-pause', undefined, { oob: true });
  }

  /** migrate --postcopy-resume: one try now through `uri`; rejects with its error. */
  async resumeNow(uri: string): Promise<void> {
    const status = await statusOf(this.#o.qmp);
    if (status !== 'postcopy-paused' || !this.#resumer.running)
      throw new FerryError(
        'OPERATION_INVALID',
        `Requested operation is not valid: the migration of '${this.#o.entry.domainName}' is not a paused post-copy (status ${status})`,
      );
    await this.#resumer.tryNow(uri);
  }

  /** The job is over: no more tries, no more reactions to the link. */
  end(): void {
    this.#ended = true;
    this.#resumer.stop();
    this.#stopWatchingPeer();
  }

  #startResuming(): void {
    const auto = this.#o.autoResume && !this.#userPaused;
    if (!auto)
      this.#o.log.warn(
        { domain: this.#o.entry.domainName },
        'post-copy paused; waiting for ferry migrate --postcopy-resume',
      );
    this.#resumer.start(auto).then(
      () => {
        this.#userPaused = false;
      },
      (err: unknown) => {
        if (err instanceof ResumeImpossibleError) this.#fatal = err;
      },
    );
  }

  #watchPeer(peer: PeerClient): () => void {
    return peer.onClose((reason) => {
      if (this.#ended || peer !== this.#peer) return;
      // Set at once: calls failing on the closed link report the loss, not their own error.
      if (!this.#o.switchedOver()) this.#o.lostBeforeSwitchover(reason);
      this.#afterPeerLoss(reason).catch((err: unknown) => {
        this.#o.log.error({ domain: this.#o.entry.domainName, err: messageOf(err) }, 'peer loss');
      });
    });
  }

  async #afterPeerLoss(reason: FerryError): Promise<void> {
    const { qmp, log, entry } = this.#o;
    const status = await statusOf(qmp).catch(() => undefined);
    // The job may have ended meanwhile (its journal entry written for good).
    if (this.#ended) return;
    if (status === undefined || !status.startsWith('postcopy')) {
      // Nobody is there to run the guest: it stays here. Never in post-copy, whose stream
      // holds the guest's state on both sides.
      if (!this.#o.switchedOver()) await this.#o.cancel();
      return;
    }
    this.#o.switchOver();
    // A destination ferryd that died closes its socket, but its QEMU's stream goes on; only a
    // silent link (or a hung host) stops the stream, and QEMU would notice in minutes.
    if (status !== 'postcopy-active' || !(reason instanceof KeepaliveTimeoutError)) return;
    log.warn(
      { domain: entry.domainName, err: reason.message },
      'destination not answering during post-copy; pausing the stream',
    );
    await qmp.execute('migrate-pause', undefined, { oob: true }).catch((err: unknown) => {
      log.warn({ domain: entry.domainName, err: messageOf(err) }, 'migrate-pause failed');
    });
  }

  async #handOver(): Promise<void> {
    const peer = this.#peer;
    if (peer === undefined) return;
    try {
      await this.#o.handOver(peer);
      this.#handedOver = true;
    } catch (err) {
      // The link broke first: the stream pauses, and the guest is handed over once resumed.
      if (!peer.closed) throw err;
      this.#o.log.warn(
        { domain: this.#o.entry.domainName, err: messageOf(err) },
        'destination not told to run the guest yet; will be once the stream resumes',
      );
    }
  }

  async #attempt(uri: string): Promise<void> {
    const { qmp, entry, keepalive } = this.#o;
    const status = await waitWhile(qmp, 'postcopy-recover', RESUME_START_MS);
    if (status === 'postcopy-active' || status === 'completed') return;
    if (status !== 'postcopy-paused')
      throw new FerryError('OPERATION_FAILED', `Cannot resume: the stream is '${status}'`);
    const jobId = entry.destJobId;
    if (jobId === undefined) throw new ResumeImpossibleError('the destination gave no job id');
    const current = this.#peer;
    const reuse = current !== undefined && !current.closed && uri === this.#resumer.uri;
    const peer = reuse ? current : await connectPeer(uri, { keepalive });
    try {
      const listen = entry.flags.listenAddress;
      const { migrateUri } = await peer
        .call('migration.resume', {
          jobId,
          ...(listen === undefined ? {} : { listenAddress: listen }),
        })
        .catch(async (err: unknown) => {
          throw await whyNotResumable(peer, jobId, uri === entry.destUri, err);
        });
      await qmp.execute('migrate', { uri: migrateUri, resume: true });
      const after = await waitWhile(qmp, 'postcopy-paused', RESUME_START_MS);
      if (after === 'postcopy-paused')
        throw new FerryError(
          'OPERATION_FAILED',
          `The source QEMU did not reach the destination's stream at ${migrateUri}`,
        );
    } catch (err) {
      if (!reuse) peer.close();
      throw err;
    }
    if (!reuse) {
      this.#stopWatchingPeer();
      this.#peer = peer;
      this.#stopWatchingPeer = this.#watchPeer(peer);
      current?.close();
    }
    if (!this.#handedOver) void this.#handOver().catch(() => undefined);
  }
}

/**
 * A refused migration.resume: impossible for good when the job's own destination has no
 * running job of that id (discarded before post-copy reached it, or never there), so the
 * caller settles the job with it; any other refusal is worth another try.
 */
async function whyNotResumable(
  peer: PeerClient,
  jobId: string,
  ownDestination: boolean,
  err: unknown,
): Promise<unknown> {
  if (!ownDestination || !(err instanceof FerryError) || err.code !== 'OPERATION_INVALID')
    return err;
  const status = await peer.call('migration.status', { jobId }).catch(() => undefined);
  if (status?.phase === 'unknown' || status?.phase === 'done')
    return new ResumeImpossibleError(err.message, err);
  return err;
}

async function statusOf(qmp: QmpClient): Promise<string> {
  return (await qmp.execute<MigrationInfo>('query-migrate')).status ?? 'none';
}

/** Polls QEMU's migration status while it is `status` (at most `timeoutMs`); returns the last. */
async function waitWhile(qmp: QmpClient, status: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await statusOf(qmp);
    if (now !== status || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
