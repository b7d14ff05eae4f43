/**
 * A live migration's disks, on the source: before prepare, which disks are copied and the
 * proofs for the shared ones; after prepare, the mirrors onto the destination's NBD exports,
 * in sync before the memory moves and completed at the switch-over; on failure, the mirrors
 * stopped with the guest still on its own disks.
 * @module
 */
import { FerryError, messageOf } from '../../common/errors.js';
import type { DiskDef, DomainDef } from '../../domain/def.js';
import type { QmpClient } from '../../qmp/index.js';
import type { JobStats, MigrateFlags } from '../../rpc/schema/migration.js';
import type { CopiedDisk, DiskProbe } from '../../rpc/schema/migration-disks.js';
import { imageInfo } from '../../storage/qemu-img.js';
import { withDiskStats, type DiskFields } from './job-stats.js';
import { DiskMirrors, type MirrorTarget } from './mirror.js';
import { planDisks, type DiskPlan } from './plan.js';
import { probeSharedDisks } from './probe.js';

/** What the destination needs to know about the disks in prepare. */
export interface PrepareDisks {
  probes: DiskProbe[];
  copy: CopiedDisk[];
  copyProbes: DiskProbe[];
  port?: number;
}

/** The source's facts about the disks it copies (format, size, allocation, backing). */
export async function describeCopies(
  disks: readonly DiskDef[],
  sync: 'full' | 'top',
): Promise<CopiedDisk[]> {
  const out: CopiedDisk[] = [];
  for (const disk of disks) {
    const path = disk.source;
    if (path === undefined)
      throw new FerryError('INVALID_ARG', `Disk '${disk.target.dev}' has no file to copy`);
    const info = await imageInfo(path, disk.driver.type);
    const copied: CopiedDisk = {
      dev: disk.target.dev,
      path,
      format: disk.driver.type,
      virtualSize: info.virtualSize,
      allocated: info.actualSize ?? info.virtualSize,
    };
    if (sync === 'top') {
      if (info.backing === undefined)
        throw new FerryError(
          'INVALID_ARG',
          `Disk '${disk.target.dev}' has no backing file: --copy-storage-inc copies an overlay over a shared base image (use --copy-storage-all)`,
        );
      copied.backing = { file: info.backing.path, format: info.backing.format ?? 'raw' };
    }
    out.push(copied);
  }
  return out;
}

/** Shared disks that QEMU never flushes (cache='unsafe') can lose writes at the switch-over. */
function checkCacheSafety(disks: readonly DiskDef[], flags: MigrateFlags): void {
  if (flags.unsafe) return;
  const unsafe = disks.filter((d) => d.driver.cache === 'unsafe' && !d.readonly);
  if (unsafe.length > 0)
    throw new FerryError(
      'OPERATION_INVALID',
      `Unsafe migration: disk ${unsafe.map((d) => `'${d.target.dev}'`).join(', ')} uses cache mode 'unsafe', which never flushes: writes could be lost at the switch-over (use --unsafe to migrate anyway, or cache='none')`,
    );
}

export class SourceStorage {
  readonly plan: DiskPlan;
  readonly #prepare: PrepareDisks;
  readonly #cleanupProbes: () => Promise<void>;
  readonly #memoryTotal: number;
  #mirrors: DiskMirrors | undefined;
  #last: DiskFields | undefined;
  /** The mirrors are done (and gone): the last sample is final. */
  #completed = false;

  private constructor(
    plan: DiskPlan,
    prepare: PrepareDisks,
    cleanup: () => Promise<void>,
    memoryTotal: number,
  ) {
    this.plan = plan;
    this.#prepare = prepare;
    this.#cleanupProbes = cleanup;
    this.#memoryTotal = memoryTotal;
  }

  /** Plans the disks and probes the shared ones; throws (changing nothing) when it cannot work. */
  static async begin(def: DomainDef, flags: MigrateFlags): Promise<SourceStorage> {
    const plan = planDisks(def, flags);
    checkCacheSafety(plan.shared, flags);
    const copy = await describeCopies(plan.copy, plan.sync);
    const shared = await probeSharedDisks(plan.shared);
    const copied = await probeSharedDisks(plan.copy).catch((err: unknown) => {
      void shared.cleanup();
      throw err;
    });
    const cleanup = async (): Promise<void> => {
      await shared.cleanup();
      await copied.cleanup();
    };
    const prepare: PrepareDisks = {
      probes: shared.probes,
      copy,
      copyProbes: copied.probes,
      ...(flags.disksPort === undefined ? {} : { port: flags.disksPort }),
    };
    return new SourceStorage(plan, prepare, cleanup, def.currentMemoryKiB * 1024);
  }

  get copying(): boolean {
    return this.plan.copy.length > 0;
  }

  /** For prepare; the probes' markers stay until {@link probed}. */
  prepareParams(): PrepareDisks {
    return this.#prepare;
  }

  /** The destination has looked at the probes (or failed to): remove the markers. */
  probed(): Promise<void> {
    return this.#cleanupProbes();
  }

  /** Starts the mirrors and waits until every disk is in sync, reporting progress. */
  async copy(
    qmp: QmpClient,
    target: MirrorTarget | undefined,
    report: (stats: JobStats) => void,
    stopped: () => FerryError | undefined,
  ): Promise<void> {
    if (!this.copying) return;
    if (target === undefined)
      throw new FerryError('OPERATION_FAILED', 'The destination did not export the disks to copy');
    const mirrors = new DiskMirrors(
      qmp,
      this.plan.copy.map((d) => d.target.dev),
      target,
    );
    this.#mirrors = mirrors;
    await mirrors.start(this.plan.sync);
    await mirrors.waitReady(async () => {
      report(
        await this.withDisks({ type: 'None', operation: 'Outgoing migration', status: 'none' }),
      );
    }, stopped);
  }

  /** A sample with the disks folded in (unchanged when nothing is copied). */
  async withDisks(stats: JobStats): Promise<JobStats> {
    const mirrors = this.#mirrors;
    if (mirrors === undefined) return stats;
    try {
      if (!this.#completed) this.#last = await mirrors.stats();
    } catch {
      // Completed mirrors are gone: the last sample stands, all copied.
    }
    const disk = this.#last ?? {};
    return withDiskStats(stats, disk, this.#memoryTotal);
  }

  /** At pre-switchover: the guest is paused; the mirrors finish and the destination's disks are final. */
  async complete(): Promise<void> {
    const mirrors = this.#mirrors;
    if (mirrors === undefined) return;
    this.#last = await mirrors.stats().catch(() => this.#last);
    await mirrors.complete();
    this.#completed = true;
    if (this.#last !== undefined)
      this.#last = { ...this.#last, diskProcessed: this.#last.diskTotal ?? 0, diskRemaining: 0 };
  }

  /** The final sample's disk fields, for the completed statistics. */
  final(stats: JobStats): JobStats {
    if (this.#last === undefined) return stats;
    return withDiskStats(stats, this.#last, this.#memoryTotal);
  }

  /** Stops the mirrors (the job failed); the guest keeps its own disks. */
  async abort(): Promise<void> {
    await this.#mirrors?.abort().catch((err: unknown) => {
      throw new FerryError('OPERATION_FAILED', `Cannot stop the disk mirrors: ${messageOf(err)}`, {
        cause: err,
      });
    });
    this.#mirrors = undefined;
  }
}
