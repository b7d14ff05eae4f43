/**
 * The source's half of a storage copy (libvirt's qemuMigrationSrcNBDStorageCopy): each copied
 * disk gets an NBD client node on the destination's export and a blockdev-mirror job onto it,
 * in write-blocking mode so that once in sync every guest write reaches both hosts before the
 * guest sees it done. Memory moves only after every mirror is READY; at the switch-over
 * (QEMU paused in pre-switchover) the mirrors are completed without a pivot, leaving the
 * source on its own disks should anything still fail.
 * @module
 */
import { FerryError, messageOf } from '../../common/errors.js';
import type { QmpClient } from '../../qmp/index.js';
import { diskNodeNames } from '../../qemu/disk-args.js';
import type { JobStats } from '../../rpc/schema/migration.js';
import { MigrationError } from '../errors.js';
import { MIGRATION_TLS_ID } from '../tls.js';
import { exportName } from './nbd-export.js';

export interface MirrorTarget {
  host: string;
  port: number;
  /** TLS hostname to check the destination's certificate against, when --tls. */
  tlsHostname?: string | undefined;
}

interface BlockJobInfo {
  device: string;
  type: string;
  len: number;
  offset: number;
  ready: boolean;
  status: string;
  speed: number;
  error?: string;
}

const POLL_MS = 200;

export class DiskMirrors {
  readonly #qmp: QmpClient;
  readonly #devs: readonly string[];
  readonly #target: MirrorTarget;
  readonly #nodes: string[] = [];
  #started = false;
  #startedAt = Date.now();

  constructor(qmp: QmpClient, devs: readonly string[], target: MirrorTarget) {
    this.#qmp = qmp;
    this.#devs = devs;
    this.#target = target;
  }

  static jobId(dev: string): string {
    return `ferry-mirror-${dev}`;
  }

  static nodeName(dev: string): string {
    return `ferry-${dev}-nbd`;
  }

  /** Connects to each export and starts its mirror; on a failure removes what it added. */
  async start(sync: 'full' | 'top'): Promise<void> {
    this.#startedAt = Date.now();
    try {
      for (const dev of this.#devs) {
        const node = DiskMirrors.nodeName(dev);
        await this.#qmp.execute('blockdev-add', {
          driver: 'nbd',
          'node-name': node,
          server: { type: 'inet', host: this.#target.host, port: String(this.#target.port) },
          export: exportName(dev),
          ...(this.#target.tlsHostname === undefined
            ? {}
            : { 'tls-creds': MIGRATION_TLS_ID, 'tls-hostname': this.#target.tlsHostname }),
        });
        this.#nodes.push(node);
        await this.#qmp.execute('blockdev-mirror', {
          'job-id': DiskMirrors.jobId(dev),
          device: diskNodeNames(dev).format,
          target: node,
          sync,
          'copy-mode': 'write-blocking',
          'auto-dismiss': false,
        });
        this.#started = true;
      }
    } catch (err) {
      await this.abort();
      throw new MigrationError(
        'perform',
        `Cannot start copying the disks to the destination: ${messageOf(err)}`,
        err,
      );
    }
  }

  async #jobs(): Promise<BlockJobInfo[]> {
    const all = await this.#qmp.execute<BlockJobInfo[]>('query-block-jobs');
    const ids = new Set(this.#devs.map((d) => DiskMirrors.jobId(d)));
    return all.filter((j) => ids.has(j.device));
  }

  /** The disk fields of a job sample (virsh's File processed/remaining/total/bandwidth). */
  async stats(): Promise<
    Pick<JobStats, 'diskProcessed' | 'diskRemaining' | 'diskTotal' | 'diskBandwidth'>
  > {
    const jobs = await this.#jobs();
    let total = 0;
    let processed = 0;
    for (const j of jobs) {
      total += j.len;
      processed += j.offset;
    }
    const elapsed = Math.max(1, Date.now() - this.#startedAt);
    return {
      diskProcessed: processed,
      diskRemaining: Math.max(0, total - processed),
      diskTotal: total,
      // The copy's average so far: samples come too seldom for a steadier figure.
      diskBandwidth: Math.round((processed * 1000) / elapsed),
    };
  }

  /**
   * Waits until every mirror is in sync, calling `onSample` as it goes; throws when a mirror
   * fails (the destination's disk is full, its QEMU is gone) or `aborted()` says so.
   */
  async waitReady(
    onSample: () => Promise<void>,
    aborted: () => FerryError | undefined,
  ): Promise<void> {
    for (;;) {
      const why = aborted();
      if (why !== undefined) throw why;
      const jobs = await this.#jobs();
      for (const dev of this.#devs) {
        const job = jobs.find((j) => j.device === DiskMirrors.jobId(dev));
        if (
          job === undefined ||
          job.status === 'concluded' ||
          job.status === 'aborting' ||
          job.error !== undefined
        )
          throw new MigrationError(
            'perform',
            `Copying disk '${dev}' to the destination failed: ${job?.error ?? 'the mirror job ended'}`,
          );
      }
      await onSample();
      if (jobs.every((j) => j.ready)) return;
      await this.#qmp
        .waitForEvent('BLOCK_JOB_READY', { timeoutMs: POLL_MS })
        .catch(() => undefined);
    }
  }

  /**
   * At the switch-over (the guest paused): completes each mirror without a pivot, so the
   * destination holds a point-in-time copy and the source keeps its own disks.
   */
  async complete(): Promise<void> {
    for (const dev of this.#devs) {
      const id = DiskMirrors.jobId(dev);
      const done = this.#qmp.waitForEvent('BLOCK_JOB_COMPLETED', {
        predicate: (ev) => ev.data['device'] === id,
        timeoutMs: 120_000,
      });
      await this.#qmp.execute('block-job-cancel', { device: id });
      const ev = await done;
      const error = ev.data['error'];
      if (typeof error === 'string')
        throw new MigrationError(
          'perform',
          `Completing the copy of disk '${dev}' failed: ${error}`,
        );
      await this.#qmp.execute('block-job-dismiss', { id }).catch(() => undefined);
    }
    this.#started = false;
    await this.#removeNodes();
  }

  /** Stops every mirror at once (the destination's copy is thrown away) and removes the nodes. */
  async abort(): Promise<void> {
    if (this.#started) {
      await stopMirrorJobs(this.#qmp, this.#devs);
      this.#started = false;
    }
    await this.#removeNodes();
  }

  async #removeNodes(): Promise<void> {
    while (this.#nodes.length > 0) {
      const node = this.#nodes.pop() as string;
      await this.#qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
    }
  }
}

/**
 * Stops mirrors a previous ferryd left running in `qmp`'s QEMU (it died mid-copy and the job
 * was rolled back): the guest stays on its own disks, the NBD client nodes go.
 */
export async function cancelLeftoverMirrors(qmp: QmpClient): Promise<void> {
  const jobs = await qmp.execute<BlockJobInfo[]>('query-block-jobs');
  const prefix = DiskMirrors.jobId('');
  const devs = jobs
    .filter((j) => j.device.startsWith(prefix))
    .map((j) => j.device.slice(prefix.length));
  await stopMirrorJobs(qmp, devs);
  for (const dev of devs)
    await qmp
      .execute('blockdev-del', { 'node-name': DiskMirrors.nodeName(dev) })
      .catch(() => undefined);
}

/** Cancels the mirrors of `devs` without completing them and waits until they are gone. */
async function stopMirrorJobs(qmp: QmpClient, devs: readonly string[]): Promise<void> {
  const ids = new Set(devs.map((d) => DiskMirrors.jobId(d)));
  for (const id of ids)
    await qmp.execute('block-job-cancel', { device: id, force: true }).catch(() => undefined);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const left = (await qmp.execute<BlockJobInfo[]>('query-block-jobs').catch(() => [])).filter(
      (j) => ids.has(j.device),
    );
    for (const j of left)
      if (j.status === 'concluded')
        await qmp.execute('block-job-dismiss', { id: j.device }).catch(() => undefined);
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
