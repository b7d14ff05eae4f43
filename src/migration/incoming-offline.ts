/**
 * Offline migrations on the destination: only a definition arrives, unless the source copies
 * the guest's disks too (--copy-storage-all), in which case the targets are made ready and
 * served over NBD first, and the definition is stored only once the copy has succeeded. A
 * source that goes away before finishing leaves nothing behind.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { messageOf } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import { parseDomainXml } from '../domain/xml/index.js';
import type { DomainManager, Logger } from '../host/index.js';
import type { PrepareRequest, SourceConnection } from './incoming-job.js';
import { advertisedHost } from './ports.js';
import { prepareIncomingDisks } from './storage/destination-storage.js';
import { OfflineTargets } from './storage/offline-copy.js';

interface OfflineJob {
  xml: string;
  /** Present while the source copies disks; the definition is stored after it succeeded. */
  targets?: OfflineTargets;
}

export interface OfflineOptions {
  domains: DomainManager;
  log: Logger;
  runDir: string;
  portRange: readonly [number, number];
}

export class IncomingOffline {
  readonly #jobs = new Map<string, OfflineJob>();
  readonly #opts: OfflineOptions;

  constructor(opts: OfflineOptions) {
    this.#opts = opts;
  }

  has(jobId: string): boolean {
    return this.#jobs.has(jobId);
  }

  async prepare(
    req: PrepareRequest,
    source: SourceConnection,
    takenPorts: ReadonlySet<number>,
  ): Promise<{ jobId: string; nbd?: { host: string; port: number }; warnings?: string[] }> {
    const { domains } = this.#opts;
    const jobId = randomUUID();
    const copy = req.disks?.copy ?? [];
    if (req.disks === undefined || copy.length === 0) {
      domains.define(req.xml);
      this.#jobs.set(jobId, { xml: req.xml });
      const warnings = await this.#missingDisks(parseDomainXml(req.xml).def);
      return warnings.length === 0 ? { jobId } : { jobId, warnings };
    }
    const { def } = parseDomainXml(req.xml);
    const resolved = await domains.resolveDisks(def);
    domains.checkPolicy(resolved);
    const { created, targets } = await prepareIncomingDisks(resolved, req.disks);
    const listen = req.listenAddress ?? '127.0.0.1';
    const served = await OfflineTargets.open(targets, created, {
      listen,
      range: this.#opts.portRange,
      taken: takenPorts,
      runDir: this.#opts.runDir,
      jobId,
    });
    this.#jobs.set(jobId, { xml: req.xml, targets: served });
    source.onClose(() => {
      // The source is gone before it finished: the half-copied images go with the job.
      if (this.#jobs.has(jobId)) void this.finish(jobId, false);
    });
    return { jobId, nbd: { host: advertisedHost(listen, req.destHost), port: served.port } };
  }

  /** Stores the definition after a successful copy, or throws the copy's targets away. */
  async finish(jobId: string, success: boolean): Promise<{ name: string; state: string }> {
    const job = this.#jobs.get(jobId);
    this.#jobs.delete(jobId);
    if (job?.targets === undefined) return { name: '', state: 'shut off' };
    await job.targets.close(success).catch((err: unknown) => {
      this.#opts.log.error({ job: jobId, err: messageOf(err) }, 'cannot stop the disk copy');
    });
    if (!success) return { name: '', state: 'shut off' };
    const { def } = this.#opts.domains.define(job.xml);
    return { name: def.name, state: 'shut off' };
  }

  /** The chapter's rule for offline moves: the disks must already be here; say which are not. */
  async #missingDisks(def: DomainDef): Promise<string[]> {
    let resolved: DomainDef;
    try {
      resolved = await this.#opts.domains.resolveDisks(def);
    } catch (err) {
      return [`the destination cannot find the guest's volumes: ${messageOf(err)}`];
    }
    return resolved.devices.disks
      .filter((d) => d.device === 'disk' && d.source !== undefined && !existsSync(d.source))
      .map(
        (d) =>
          `disk '${d.target.dev}' source '${d.source ?? ''}' does not exist on the destination: copy it there before starting the guest (or migrate with --copy-storage-all)`,
      );
  }
}
