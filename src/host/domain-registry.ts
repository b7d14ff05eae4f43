/**
 * The registry of this host's domains: records, lookups and views, and the machinery the
 * lifecycle and migration operations (domain-manager.ts) are built from: per-domain locks,
 * state changes with their events, and noticing a QEMU's end.
 * @module
 */
import { EventEmitter } from 'node:events';
import { FerryError } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import type { DomainState } from '../domain/state.js';
import { DomainStore } from '../domain/store.js';
import type { ExitInfo } from '../qemu/index.js';
import { formatDomainXml, parseDomainXml } from '../domain/xml/index.js';
import type { DomainEvent, DomainInfo, DomainSummary } from '../rpc/schema/domain.js';
import { isActive, lookupDomain, newRecord, type DomainRecord } from './domain-record.js';
import { processCpuTimeNs } from './cpu-time.js';
import { Launcher, type LauncherOptions } from './launcher.js';
import type { Logger } from './logger.js';

export interface DomainManagerOptions extends LauncherOptions {
  configDir: string;
  statusDir: string;
  logger: Logger;
}

export type EventKind = DomainEvent['event'];

/** The records of this host's domains and the state machinery shared by every operation. */
export abstract class DomainRegistry extends EventEmitter<{ event: [DomainEvent] }> {
  protected readonly records = new Map<string, DomainRecord>();
  protected readonly store: DomainStore;
  protected readonly launcher: Launcher;
  protected readonly log: Logger;

  constructor(opts: DomainManagerOptions) {
    super();
    this.store = new DomainStore(opts.configDir, opts.statusDir);
    this.launcher = new Launcher(opts, this.store);
    this.log = opts.logger;
  }

  /** Loads stored definitions and re-attaches to every QEMU an earlier ferryd left running. */
  async load(): Promise<void> {
    for (const { file, xml } of this.store.loadConfigs()) {
      try {
        const { def } = parseDomainXml(xml);
        this.records.set(def.uuid, newRecord(def, true));
      } catch (err) {
        this.log.error({ file, err }, 'skipping unreadable domain definition');
      }
    }
    const { statuses, errors } = this.store.loadStatuses();
    for (const e of errors) this.log.error({ file: e }, 'skipping unreadable status file');
    for (const status of statuses) {
      const rec = await this.launcher.reattach(status, this.records.get(status.uuid));
      if (rec === undefined) continue;
      this.records.set(rec.def.uuid, rec);
      if (isActive(rec)) this.watchExit(rec);
    }
  }

  list(filter: { active: boolean; inactive: boolean }): DomainSummary[] {
    return [...this.records.values()]
      .filter((r) => (isActive(r) ? filter.active : filter.inactive))
      .sort(
        (a, b) => (a.id ?? Infinity) - (b.id ?? Infinity) || a.def.name.localeCompare(b.def.name),
      )
      .map(summarise);
  }

  /**
   * Every domain with what capacity counts (the running definition's size while active) and
   * whether a job holds it: for host.capacity and the destination's memory check.
   */
  capacityView(): GuestSize[] {
    return [...this.records.values()].map((r) => {
      const def = r.liveDef ?? r.def;
      return {
        name: r.def.name,
        uuid: r.def.uuid,
        state: r.state,
        persistent: r.persistent,
        active: isActive(r),
        vcpus: def.vcpus,
        memoryKiB: def.memoryKiB,
        busy: r.job !== undefined,
      };
    });
  }

  /** The record of the domain with this UUID, if this host has one. */
  find(uuid: string): DomainRecord | undefined {
    return this.records.get(uuid);
  }

  get(ref: string): DomainRecord {
    return lookupDomain(this.records.values(), ref);
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

  /** Stops watching QEMU processes; the guests keep running for the next ferryd. */
  detachAll(): void {
    for (const rec of this.records.values()) {
      const proc = rec.proc;
      // Unhooked first, so the monitor closing is not taken for QEMU's exit.
      rec.proc = undefined;
      proc?.qmp.close();
    }
    this.records.clear();
  }

  protected watchExit(rec: DomainRecord): void {
    const proc = rec.proc;
    if (proc === undefined) return;
    proc.qmp.onEvent((ev) => {
      if (rec.proc !== proc) return;
      if (ev.event === 'STOP' && rec.state === 'running')
        this.setState(rec, 'paused', 'unknown', 'suspended', 'Paused');
      if (ev.event === 'RESUME' && rec.state === 'paused')
        this.setState(rec, 'running', 'unpaused', 'resumed', 'Unpaused');
      if (ev.event === 'GUEST_PANICKED') this.#panicked(rec, ev.data);
      if (ev.event === 'SHUTDOWN' && ev.data['guest'] === true && rec.stopping === undefined) {
        // The guest powered off; QEMU waits (-no-shutdown) for ferryd to end it.
        rec.stopping = 'shutdown';
        this.setState(rec, 'in shutdown', 'user', 'shutdown', 'Finished');
        void proc.terminate();
      }
    });
    void proc.exited.then(async (exit) => {
      // A stop ferryd asked for is finished by its own caller under the lock.
      if (rec.proc !== proc || rec.stopping === 'destroyed' || rec.stopping === 'migrated') return;
      await this.locked(rec, () => Promise.resolve(this.finishExit(rec, exit)));
    });
  }

  /**
   * The guest kernel panicked and QEMU paused it (-action panic=pause): the domain shows
   * crashed (panicked) and keeps its QEMU, console and memory for inspection until destroyed.
   */
  #panicked(rec: DomainRecord, data: Record<string, unknown>): void {
    const info = data['info'];
    rec.panic = {
      at: Date.now(),
      action: typeof data['action'] === 'string' ? data['action'] : 'unknown',
      ...(typeof info === 'object' && info !== null
        ? { info: info as Record<string, unknown> }
        : {}),
    };
    this.log.warn({ domain: rec.def.name, panic: rec.panic }, 'guest panicked');
    this.setState(rec, 'crashed', 'panicked', 'crashed', 'Panicked');
  }

  protected finishExit(rec: DomainRecord, exit: ExitInfo): void {
    if (rec.proc === undefined) return;
    let reason: string;
    let detail: string;
    if (rec.stopping === 'destroyed') [reason, detail] = ['destroyed', 'Destroyed'];
    else if (rec.stopping === 'migrated') [reason, detail] = ['migrated', 'Migrated'];
    else if (exit.panicked) [reason, detail] = ['crashed', 'Crashed'];
    else if (rec.stopping === 'shutdown' || exit.shutdown?.guest === true) {
      [reason, detail] = ['shutdown', 'Shutdown'];
    } else [reason, detail] = ['crashed', 'Failed'];
    this.launcher.cleanup(rec.def.uuid);
    this.log.info({ domain: rec.def.name, reason, pid: rec.proc.pid }, 'domain stopped');
    rec.proc = undefined;
    rec.id = null;
    rec.liveDef = undefined;
    rec.stopping = undefined;
    rec.panic = undefined;
    rec.qemuLog = undefined;
    this.setState(rec, 'shut off', reason, 'stopped', detail);
    if (!rec.persistent) this.records.delete(rec.def.uuid);
  }

  protected requireActive(rec: DomainRecord): NonNullable<DomainRecord['proc']> {
    if (rec.proc === undefined)
      throw new FerryError(
        'OPERATION_INVALID',
        'Requested operation is not valid: domain is not running',
      );
    return rec.proc;
  }

  /** Refuses a definition whose name or UUID belongs to another domain; returns its twin. */
  protected conflictCheck(def: DomainDef): DomainRecord | undefined {
    const sameUuid = this.records.get(def.uuid);
    const sameName = [...this.records.values()].find((r) => r.def.name === def.name);
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
  protected async transition(
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

  protected setState(
    rec: DomainRecord,
    state: DomainState,
    reason: string,
    event: EventKind,
    detail: string,
  ): void {
    rec.state = state;
    rec.reason = reason;
    this.emitEvent(rec, event, detail);
  }

  protected emitEvent(rec: DomainRecord, event: EventKind, detail: string): void {
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

  protected async locked<T>(rec: DomainRecord, fn: () => Promise<T>): Promise<T> {
    const run = rec.lock.then(fn, fn);
    rec.lock = run.catch(() => undefined);
    return run;
  }
}

/** A domain as capacity sees it (DomainRegistry.capacityView). */
export interface GuestSize {
  name: string;
  uuid: string;
  state: string;
  persistent: boolean;
  active: boolean;
  vcpus: number;
  memoryKiB: number;
  busy: boolean;
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
