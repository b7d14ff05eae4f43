/**
 * The domains of this host: definitions (persistent and transient), their state, and the
 * QEMU process behind each active one. All lifecycle operations go through here; each runs
 * under a per-domain lock, and every failure leaves the record as it was.
 * @module
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { FerryError } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import type { DomainState } from '../domain/state.js';
import { DomainStore } from '../domain/store.js';
import type { ExitInfo } from '../qemu/index.js';
import { formatDomainXml, parseDomainXml } from '../domain/xml/index.js';
import type { DomainEvent, DomainInfo, DomainSummary } from '../rpc/schema/domain.js';
import { isActive, lookupDomain, type DomainRecord } from './domain-record.js';
import { processCpuTimeNs } from './cpu-time.js';
import { Launcher, type LauncherOptions } from './launcher.js';
import type { Logger } from './logger.js';

export interface DomainManagerOptions extends LauncherOptions {
  configDir: string;
  statusDir: string;
  logger: Logger;
}

type EventKind = DomainEvent['event'];

/** Owns every domain record of the host and emits `event` (DomainEvent) on each change. */
export class DomainManager extends EventEmitter<{ event: [DomainEvent] }> {
  readonly #records = new Map<string, DomainRecord>();
  readonly #store: DomainStore;
  readonly #launcher: Launcher;
  readonly #log: Logger;

  constructor(opts: DomainManagerOptions) {
    super();
    this.#store = new DomainStore(opts.configDir, opts.statusDir);
    this.#launcher = new Launcher(opts, this.#store);
    this.#log = opts.logger;
  }

  /** Loads stored definitions and re-attaches to every QEMU an earlier ferryd left running. */
  async load(): Promise<void> {
    for (const { file, xml } of this.#store.loadConfigs()) {
      try {
        const { def } = parseDomainXml(xml);
        this.#records.set(def.uuid, newRecord(def, true));
      } catch (err) {
        this.#log.error({ file, err }, 'skipping unreadable domain definition');
      }
    }
    const { statuses, errors } = this.#store.loadStatuses();
    for (const e of errors) this.#log.error({ file: e }, 'skipping unreadable status file');
    for (const status of statuses) {
      const rec = await this.#launcher.reattach(status, this.#records.get(status.uuid));
      if (rec === undefined) continue;
      this.#records.set(rec.def.uuid, rec);
      if (isActive(rec)) this.#watchExit(rec);
    }
  }

  list(filter: { active: boolean; inactive: boolean }): DomainSummary[] {
    return [...this.#records.values()]
      .filter((r) => (isActive(r) ? filter.active : filter.inactive))
      .sort(
        (a, b) => (a.id ?? Infinity) - (b.id ?? Infinity) || a.def.name.localeCompare(b.def.name),
      )
      .map(summarise);
  }

  get(ref: string): DomainRecord {
    return lookupDomain(this.#records.values(), ref);
  }

  info(ref: string): DomainInfo {
    const rec = this.get(ref);
    const def = rec.liveDef ?? rec.def;
    return {
      ...summarise(rec),
      osType: 'hvm',
      vcpus: def.vcpus,
      cpuTimeNs: rec.proc === undefined ? 0 : processCpuTimeNs(rec.proc.pid),
      maxMemoryKiB: def.memoryKiB,
      memoryKiB: def.currentMemoryKiB,
      autostart: false,
    };
  }

  /** The live definition while active (with its id), the persistent one otherwise. */
  xml(ref: string, inactive: boolean): string {
    const rec = this.get(ref);
    if (!inactive && rec.liveDef !== undefined && rec.id !== null) {
      return formatDomainXml(rec.liveDef, { id: rec.id });
    }
    return formatDomainXml(rec.def);
  }

  /** Defines a new persistent domain or replaces the definition of an existing one. */
  define(xml: string): { def: DomainDef; warnings: string[] } {
    const { def, warnings } = parseDomainXml(xml, { generateUuid: randomUUID });
    const existing = this.#conflictCheck(def);
    const text = formatDomainXml(def);
    this.#store.saveConfig(def.name, text);
    if (existing === undefined) {
      this.#records.set(def.uuid, newRecord(def, true));
    } else {
      existing.def = def;
      existing.persistent = true;
    }
    const rec = this.get(def.uuid);
    this.#emit(rec, 'defined', existing === undefined ? 'Added' : 'Updated');
    return { def, warnings };
  }

  undefine(ref: string): string {
    const rec = this.get(ref);
    if (!rec.persistent) {
      throw new FerryError(
        'OPERATION_INVALID',
        'Requested operation is not valid: cannot undefine transient domain',
      );
    }
    this.#store.removeConfig(rec.def.name);
    if (isActive(rec)) {
      rec.persistent = false;
      this.#launcher.saveStatus(rec);
    } else {
      this.#records.delete(rec.def.uuid);
    }
    this.#emit(rec, 'undefined', 'Removed');
    return rec.def.name;
  }

  /** Starts a transient domain from XML. */
  async create(xml: string, paused: boolean): Promise<{ rec: DomainRecord; warnings: string[] }> {
    const { def, warnings } = parseDomainXml(xml, { generateUuid: randomUUID });
    const existing = this.#conflictCheck(def);
    if (existing !== undefined && isActive(existing)) {
      throw new FerryError(
        'OPERATION_INVALID',
        `Requested operation is not valid: domain '${def.name}' is already active`,
      );
    }
    const rec = existing ?? newRecord(def, false);
    await this.#locked(rec, async () => {
      await this.#launcher.start(rec, def, paused);
      if (existing === undefined) this.#records.set(def.uuid, rec);
    });
    this.#afterStart(rec, paused);
    return { rec, warnings };
  }

  async start(ref: string, paused: boolean): Promise<DomainRecord> {
    const rec = this.get(ref);
    await this.#locked(rec, async () => {
      if (isActive(rec))
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: domain is already running',
        );
      await this.#launcher.start(rec, rec.def, paused);
    });
    this.#afterStart(rec, paused);
    return rec;
  }

  /** Presses the ACPI power button; with `waitSeconds`, waits for the guest to power off. */
  async shutdown(ref: string, waitSeconds?: number): Promise<DomainRecord> {
    const rec = this.get(ref);
    const proc = this.#requireActive(rec);
    await proc.monitor.execute('system_powerdown');
    if (waitSeconds === undefined) return rec;
    const off = await Promise.race([
      proc.exited.then(() => true),
      new Promise<false>((resolve) => setTimeout(resolve, waitSeconds * 1000, false).unref()),
    ]);
    if (!off) {
      throw new FerryError(
        'OPERATION_TIMEOUT',
        `Domain '${rec.def.name}' did not shut down within ${waitSeconds} s; it is still ${rec.state} (use 'ferry destroy' to force it off)`,
      );
    }
    await rec.lock;
    return rec;
  }

  async destroy(ref: string): Promise<string> {
    const rec = this.get(ref);
    await this.#locked(rec, async () => {
      const proc = this.#requireActive(rec);
      rec.stopping = 'destroyed';
      await proc.terminate();
      this.#finishExit(rec, await proc.exited);
    });
    return rec.def.name;
  }

  async suspend(ref: string): Promise<string> {
    const rec = this.get(ref);
    await this.#locked(rec, async () => {
      const proc = this.#requireActive(rec);
      if (rec.state === 'paused')
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: domain is already paused',
        );
      await this.#transition(rec, 'paused', 'user', () => proc.monitor.execute('stop'));
      this.#emit(rec, 'suspended', 'Paused');
    });
    return rec.def.name;
  }

  async resume(ref: string): Promise<string> {
    const rec = this.get(ref);
    await this.#locked(rec, async () => {
      const proc = this.#requireActive(rec);
      if (rec.state !== 'paused')
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: domain is not paused',
        );
      await this.#transition(rec, 'running', 'unpaused', () => proc.monitor.execute('cont'));
      this.#emit(rec, 'resumed', 'Unpaused');
    });
    return rec.def.name;
  }

  async reboot(ref: string): Promise<string> {
    const rec = this.get(ref);
    await this.#locked(rec, async () => {
      await this.#requireActive(rec).monitor.execute('system_reset');
    });
    return rec.def.name;
  }

  /** Stops watching QEMU processes; the guests keep running for the next ferryd. */
  detachAll(): void {
    for (const rec of this.#records.values()) {
      const proc = rec.proc;
      // Unhooked first, so the monitor closing is not taken for QEMU's exit.
      rec.proc = undefined;
      proc?.qmp.close();
    }
    this.#records.clear();
  }

  #afterStart(rec: DomainRecord, paused: boolean): void {
    this.#emit(rec, 'started', 'Booted');
    if (paused) this.#emit(rec, 'suspended', 'Paused');
    this.#watchExit(rec);
  }

  #watchExit(rec: DomainRecord): void {
    const proc = rec.proc;
    if (proc === undefined) return;
    proc.qmp.onEvent((ev) => {
      if (rec.proc !== proc) return;
      if (ev.event === 'STOP' && rec.state === 'running')
        this.#setState(rec, 'paused', 'unknown', 'suspended', 'Paused');
      if (ev.event === 'RESUME' && rec.state === 'paused')
        this.#setState(rec, 'running', 'unpaused', 'resumed', 'Unpaused');
      if (ev.event === 'SHUTDOWN' && ev.data['guest'] === true && rec.stopping === undefined) {
        // The guest powered off; QEMU waits (-no-shutdown) for ferryd to end it.
        rec.stopping = 'shutdown';
        this.#setState(rec, 'in shutdown', 'user', 'shutdown', 'Finished');
        void proc.terminate();
      }
    });
    void proc.exited.then(async (exit) => {
      // A stop ferryd asked for is finished by its own caller under the lock.
      if (rec.proc !== proc || rec.stopping === 'destroyed') return;
      await this.#locked(rec, () => Promise.resolve(this.#finishExit(rec, exit)));
    });
  }

  #finishExit(rec: DomainRecord, exit: ExitInfo): void {
    if (rec.proc === undefined) return;
    let reason: string;
    let detail: string;
    if (rec.stopping === 'destroyed') [reason, detail] = ['destroyed', 'Destroyed'];
    else if (exit.panicked) [reason, detail] = ['crashed', 'Crashed'];
    else if (rec.stopping === 'shutdown' || exit.shutdown?.guest === true) {
      [reason, detail] = ['shutdown', 'Shutdown'];
    } else [reason, detail] = ['crashed', 'Failed'];
    this.#launcher.cleanup(rec.def.uuid);
    this.#log.info({ domain: rec.def.name, reason, pid: rec.proc.pid }, 'domain stopped');
    rec.proc = undefined;
    rec.id = null;
    rec.liveDef = undefined;
    rec.stopping = undefined;
    this.#setState(rec, 'shut off', reason, 'stopped', detail);
    if (!rec.persistent) this.#records.delete(rec.def.uuid);
  }

  #requireActive(rec: DomainRecord): NonNullable<DomainRecord['proc']> {
    if (rec.proc === undefined)
      throw new FerryError(
        'OPERATION_INVALID',
        'Requested operation is not valid: domain is not running',
      );
    return rec.proc;
  }

  /** Refuses a definition whose name or UUID belongs to another domain; returns its twin. */
  #conflictCheck(def: DomainDef): DomainRecord | undefined {
    const sameUuid = this.#records.get(def.uuid);
    const sameName = [...this.#records.values()].find((r) => r.def.name === def.name);
    if (sameName !== undefined && sameName.def.uuid !== def.uuid) {
      throw new FerryError(
        'DOMAIN_EXISTS',
        `Operation failed: domain '${def.name}' already exists with uuid ${sameName.def.uuid}`,
      );
    }
    if (sameUuid !== undefined && sameUuid.def.name !== def.name) {
      throw new FerryError(
        'DOMAIN_EXISTS',
        `Operation failed: domain '${sameUuid.def.name}' already exists with uuid ${def.uuid}`,
      );
    }
    if (sameUuid !== undefined && isActive(sameUuid) && !sameUuid.persistent) {
      throw new FerryError(
        'OPERATION_INVALID',
        `Requested operation is not valid: domain '${def.name}' is already active as a transient domain`,
      );
    }
    return sameUuid;
  }

  /**
   * Sets the state a command leads to before running it, so the QMP event the command causes
   * (QEMU sends STOP before its reply to `stop`) finds the state already there and is not
   * taken for a change QEMU made on its own; restores the old state if the command fails.
   */
  async #transition(
    rec: DomainRecord,
    state: DomainState,
    reason: string,
    command: () => Promise<unknown>,
  ): Promise<void> {
    const before = [rec.state, rec.reason] as const;
    rec.state = state;
    rec.reason = reason;
    try {
      await command();
    } catch (err) {
      [rec.state, rec.reason] = before;
      throw err;
    }
  }

  #setState(
    rec: DomainRecord,
    state: DomainState,
    reason: string,
    event: EventKind,
    detail: string,
  ): void {
    rec.state = state;
    rec.reason = reason;
    this.#emit(rec, event, detail);
  }

  #emit(rec: DomainRecord, event: EventKind, detail: string): void {
    this.emit('event', {
      name: rec.def.name,
      uuid: rec.def.uuid,
      event,
      detail,
      state: rec.state,
      reason: rec.reason,
      timestamp: Date.now(),
    });
  }

  async #locked<T>(rec: DomainRecord, fn: () => Promise<T>): Promise<T> {
    const run = rec.lock.then(fn, fn);
    rec.lock = run.catch(() => undefined);
    return run;
  }
}

function newRecord(def: DomainDef, persistent: boolean): DomainRecord {
  return {
    def,
    persistent,
    liveDef: undefined,
    id: null,
    state: 'shut off',
    reason: 'unknown',
    proc: undefined,
    stopping: undefined,
    consoleLog: undefined,
    lock: Promise.resolve(),
  };
}

function summarise(rec: DomainRecord): DomainSummary {
  return {
    id: rec.id,
    name: rec.def.name,
    uuid: rec.def.uuid,
    state: rec.state,
    reason: rec.reason,
    persistent: rec.persistent,
  };
}
