/**
 * ferryd's storage pools: the registry of defined and active pools, their life cycle
 * (define, build, start, destroy, undefine, autostart) and their export hosts. One operation
 * at a time changes pools, so two commands never race on the same directory or export.
 * Volume operations live in ./volumes.ts, on top of this.
 * @module
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FerryError, messageOf } from '../common/errors.js';
import { pathAllowed, type HostPolicy, type Logger } from '../host/index.js';
import { formatHostPort } from '../rpc/index.js';
import type { PoolBackend, PoolSpace } from './backend.js';
import { noPool, poolActive, poolNotActive } from './errors.js';
import { NbdExportHost } from './export-host.js';
import { nfsUrl } from './netfs.js';
import { netfsLocation, type PoolDef } from './pool-def.js';
import { PoolStore } from './pool-store.js';
import { backendFor, poolDefOf, sourceKey, type DefinePoolRequest } from './pool-types.js';
import { formatPoolXml } from './pool-xml.js';

export { poolDefOf, type DefinePoolRequest } from './pool-types.js';

export interface PoolManagerOptions {
  /** STATE_DIR/storage: persistent definitions. */
  configDir: string;
  /** RUN_DIR/storage: active pools, export hosts' sockets and pidfiles. */
  runDir: string;
  /** Where export hosts' logs go. */
  logDir: string;
  policy: HostPolicy;
  logger: Logger;
}

/** One pool as pool-list and pool-info show it. */
export interface PoolSummary {
  name: string;
  uuid: string;
  type: PoolDef['type'];
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  /** Sizes while active (undefined when inactive or unreadable). */
  space: PoolSpace | undefined;
  /** `nbd://HOST:PORT` while pool-export serves it. */
  exported: string | undefined;
  /** A netfs pool's export (`nfs://HOST/PATH`) and its target (recorded, never mounted). */
  netfs: { source: string; target: string } | undefined;
}

/** A pool the manager holds. */
export interface PoolRecord {
  def: PoolDef;
  persistent: boolean;
  active: boolean;
  backend: PoolBackend;
  exportHost: NbdExportHost | undefined;
}

export class PoolManager {
  readonly #opts: PoolManagerOptions;
  readonly #store: PoolStore;
  readonly #pools = new Map<string, PoolRecord>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: PoolManagerOptions) {
    this.#opts = opts;
    this.#store = new PoolStore(opts.configDir, opts.runDir);
  }

  /** Runs `step` after every change queued before it (pool changes never interleave). */
  serialize<T>(step: () => Promise<T> | T): Promise<T> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The pool named (by name, or by UUID as virsh allows), or NO_STORAGE_POOL. */
  get(name: string): PoolRecord {
    const rec = this.#pools.get(name) ?? [...this.#pools.values()].find((r) => r.def.uuid === name);
    if (rec === undefined) throw noPool(name);
    return rec;
  }

  /** The pool named, which must be active. */
  active(name: string): PoolRecord {
    const rec = this.get(name);
    if (!rec.active) throw poolNotActive(name);
    return rec;
  }

  /** Every pool, by name. */
  all(): PoolRecord[] {
    return [...this.#pools.values()].sort((a, b) => a.def.name.localeCompare(b.def.name));
  }

  /**
   * Reads the definitions, takes up the pools that were active when ferryd stopped (and their
   * export hosts), then starts the autostart pools. Problems are logged, never fatal.
   */
  async load(): Promise<void> {
    const log = this.#opts.logger;
    for (const loaded of this.#store.loadConfigs()) {
      if ('error' in loaded) {
        log.error(
          { file: loaded.file, err: messageOf(loaded.error) },
          'unreadable pool definition',
        );
        continue;
      }
      this.#pools.set(loaded.def.name, this.#record(loaded.def, true));
    }
    for (const loaded of this.#store.loadStatuses()) {
      if ('error' in loaded) {
        log.error({ file: loaded.file, err: messageOf(loaded.error) }, 'unreadable pool status');
        continue;
      }
      const rec = this.#pools.get(loaded.def.name) ?? this.#record(loaded.def, false);
      this.#pools.set(rec.def.name, rec);
      try {
        await rec.backend.start();
        rec.active = true;
        await this.#reattachExport(rec);
      } catch (err) {
        log.warn({ pool: rec.def.name, err: messageOf(err) }, 'pool could not be taken up again');
        this.#store.removeStatus(rec.def.name);
        if (!rec.persistent) this.#pools.delete(rec.def.name);
      }
    }
    for (const rec of this.all()) {
      if (rec.active || !rec.persistent || !this.#store.autostart(rec.def.name)) continue;
      await this.#start(rec).catch((err: unknown) => {
        log.warn({ pool: rec.def.name, err: messageOf(err) }, 'autostart of pool failed');
      });
    }
  }

  async #reattachExport(rec: PoolRecord): Promise<void> {
    const runDir = this.#store.runDir;
    let host: NbdExportHost;
    try {
      host = await NbdExportHost.attach(runDir, rec.def.uuid);
    } catch (err) {
      if (NbdExportHost.alive(runDir, rec.def.uuid)) {
        // Running but not answering: keep its files so a later start can take it up.
        this.#opts.logger.error(
          { pool: rec.def.name, err: messageOf(err) },
          'export host is running but its monitor does not answer',
        );
        return;
      }
      // No record, or its storage daemon has gone: nothing to take up.
      NbdExportHost.removeFiles(runDir, rec.def.uuid);
      return;
    }
    this.#adoptExport(rec, host);
    this.#opts.logger.info({ pool: rec.def.name, pid: host.record.pid }, 'export host re-attached');
  }

  #adoptExport(rec: PoolRecord, host: NbdExportHost): void {
    rec.exportHost = host;
    void host.exited.then(() => {
      if (rec.exportHost !== host) return;
      rec.exportHost = undefined;
      NbdExportHost.removeFiles(this.#store.runDir, rec.def.uuid);
      this.#opts.logger.warn({ pool: rec.def.name }, 'export host ended by itself');
    });
  }

  #record(def: PoolDef, persistent: boolean): PoolRecord {
    return { def, persistent, active: false, backend: backendFor(def), exportHost: undefined };
  }

  /** Refuses a definition whose name or source another pool has. */
  #checkUnique(def: PoolDef): void {
    const same = this.#pools.get(def.name);
    if (same !== undefined)
      throw new FerryError(
        'OPERATION_FAILED',
        `operation failed: pool '${def.name}' already exists with uuid ${same.def.uuid}`,
      );
    const clash = this.all().find((r) => sourceKey(r.def) === sourceKey(def));
    if (clash !== undefined)
      throw new FerryError(
        'OPERATION_FAILED',
        `operation failed: Storage source conflict with pool: '${clash.def.name}'`,
      );
  }

  /** Warnings for a definition this host accepts but guests cannot use. */
  #warnings(def: PoolDef): string[] {
    const { policy } = this.#opts;
    // A netfs target is only recorded: guests open its volumes over NFS, not under it.
    if (def.type === 'netfs') return [];
    if (def.target === undefined || pathAllowed(def.target, policy)) return [];
    return [
      `pool target '${def.target}' is outside the directories this host allows for guests (allowed_paths in ${policy.origin}: ${policy.allowedPaths.join(', ') || 'none'}); guests cannot use its volumes`,
    ];
  }

  define(req: DefinePoolRequest): Promise<{ def: PoolDef; warnings: string[] }> {
    return this.serialize(() => {
      const def = poolDefOf(req);
      this.#checkUnique(def);
      this.#store.saveConfig(def);
      this.#pools.set(def.name, this.#record(def, true));
      this.#opts.logger.info({ pool: def.name, type: def.type }, 'pool defined');
      return { def, warnings: this.#warnings(def) };
    });
  }

  /** pool-create-as: a transient pool, started at once; nothing remains when it cannot start. */
  create(req: DefinePoolRequest, build: boolean): Promise<{ def: PoolDef; warnings: string[] }> {
    return this.serialize(async () => {
      const def = poolDefOf(req);
      this.#checkUnique(def);
      const rec = this.#record(def, false);
      if (build) await rec.backend.build();
      await this.#start(rec);
      this.#pools.set(def.name, rec);
      return { def, warnings: this.#warnings(def) };
    });
  }

  build(name: string): Promise<void> {
    return this.serialize(async () => {
      const rec = this.get(name);
      if (rec.active) throw poolActive(name, 'already');
      await rec.backend.build();
    });
  }

  start(name: string, build: boolean): Promise<void> {
    return this.serialize(async () => {
      const rec = this.get(name);
      if (rec.active) throw poolActive(name, 'already');
      if (build) await rec.backend.build();
      await this.#start(rec);
    });
  }

  async #start(rec: PoolRecord): Promise<void> {
    await rec.backend.start();
    rec.active = true;
    this.#store.saveStatus(rec.def);
    this.#opts.logger.info({ pool: rec.def.name }, 'pool started');
  }

  /** pool-destroy: stops the export host, if any, then the pool; a transient pool goes. */
  destroy(name: string): Promise<void> {
    return this.serialize(async () => {
      const rec = this.active(name);
      await this.#stopExport(rec);
      await rec.backend.stop();
      rec.active = false;
      this.#store.removeStatus(name);
      if (!rec.persistent) this.#pools.delete(name);
      this.#opts.logger.info({ pool: name }, 'pool destroyed');
    });
  }

  undefine(name: string): Promise<void> {
    return this.serialize(() => {
      const rec = this.get(name);
      if (rec.active) throw poolActive(name, 'still');
      this.#store.removeConfig(name);
      this.#pools.delete(name);
      this.#opts.logger.info({ pool: name }, 'pool undefined');
    });
  }

  /** pool-refresh: re-reads the pool; an exported pool's exports follow its volumes. */
  refresh(name: string): Promise<string[]> {
    return this.serialize(async () => {
      const rec = this.active(name);
      await rec.backend.refresh();
      return rec.exportHost === undefined ? [] : await this.syncExports(rec);
    });
  }

  /** Exports every volume of `rec` and drops exports whose volume has gone; returns problems. */
  async syncExports(rec: PoolRecord): Promise<string[]> {
    const host = rec.exportHost;
    if (host === undefined) return [];
    const vols = await rec.backend.list();
    return host.sync(vols.map((v) => ({ name: v.name, path: v.path, format: v.format })));
  }

  setAutostart(name: string, on: boolean): Promise<void> {
    return this.serialize(() => {
      const rec = this.get(name);
      if (!rec.persistent)
        throw new FerryError('INTERNAL_ERROR', 'internal error: pool has no config file');
      this.#store.setAutostart(name, on);
    });
  }

  async summary(rec: PoolRecord): Promise<PoolSummary> {
    const space = rec.active ? await rec.backend.info().catch(() => undefined) : undefined;
    return {
      name: rec.def.name,
      uuid: rec.def.uuid,
      type: rec.def.type,
      active: rec.active,
      persistent: rec.persistent,
      autostart: rec.persistent && this.#store.autostart(rec.def.name),
      space,
      exported: rec.exportHost === undefined ? undefined : exportUri(rec.exportHost),
      netfs:
        rec.def.type === 'netfs'
          ? { source: nfsUrl(netfsLocation(rec.def)), target: rec.def.target ?? '' }
          : undefined,
    };
  }

  /** pool-dumpxml: the live XML (sizes) while active, unless `inactive`. */
  async xml(name: string, inactive: boolean): Promise<string> {
    const rec = this.get(name);
    if (inactive || !rec.active) return formatPoolXml(rec.def);
    return formatPoolXml(rec.def, await rec.backend.info());
  }

  /** pool-export: serve a dir pool's volumes over NBD from a qemu-storage-daemon. */
  exportPool(
    name: string,
    listen: string,
    port: number,
  ): Promise<{ uri: string; warnings: string[] }> {
    return this.serialize(async () => {
      const rec = this.active(name);
      if (rec.def.type !== 'dir')
        throw new FerryError(
          'OPERATION_INVALID',
          `Requested operation is not valid: only dir pools can be exported; pool '${name}' is of type ${rec.def.type}`,
        );
      if (rec.exportHost !== undefined)
        throw new FerryError(
          'OPERATION_INVALID',
          `Requested operation is not valid: pool '${name}' is already exported on ${exportUri(rec.exportHost)}`,
        );
      const host = await NbdExportHost.launch({
        pool: name,
        poolUuid: rec.def.uuid,
        listen,
        port,
        runDir: this.#store.runDir,
        logFile: join(this.#opts.logDir, `pool-${name}-export.log`),
      });
      this.#adoptExport(rec, host);
      const warnings = await this.syncExports(rec);
      this.#opts.logger.info({ pool: name, listen, port, pid: host.record.pid }, 'pool exported');
      return { uri: exportUri(host), warnings };
    });
  }

  unexportPool(name: string): Promise<void> {
    return this.serialize(async () => {
      const rec = this.get(name);
      if (rec.exportHost === undefined)
        throw new FerryError(
          'OPERATION_INVALID',
          `Requested operation is not valid: pool '${name}' is not exported`,
        );
      await this.#stopExport(rec);
    });
  }

  /** ferryd is stopping: let go of the export hosts, which keep serving. */
  detachAll(): void {
    for (const rec of this.#pools.values()) {
      const host = rec.exportHost;
      rec.exportHost = undefined;
      host?.detach();
    }
  }

  async #stopExport(rec: PoolRecord): Promise<void> {
    const host = rec.exportHost;
    if (host === undefined) return;
    rec.exportHost = undefined;
    await host.stop(this.#store.runDir);
    this.#opts.logger.info({ pool: rec.def.name }, 'pool export stopped');
  }
}

/** `nbd://ADDR:PORT`; a wildcard listen address is shown as this host's name. */
export function exportUri(host: NbdExportHost): string {
  const { listen, port } = host.record;
  const shown = listen === '0.0.0.0' || listen === '::' ? hostname() : listen;
  return `nbd://${formatHostPort(shown, port)}`;
}
