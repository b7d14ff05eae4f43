/**
 * The domains of this host: definitions (persistent and transient), their state, and the
 * QEMU process behind each active one. All lifecycle operations go through here; each runs
 * under a per-domain lock, and every failure leaves the record as it was.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { FerryError, messageOf } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import { formatDomainXml, parseDomainXml } from '../domain/xml/index.js';
import type { JobStats } from '../rpc/schema/migration.js';
import { isActive, newRecord, type ActiveJob, type DomainRecord } from './domain-record.js';
import { DomainRegistry } from './domain-registry.js';

/** Owns every domain record of the host and emits `event` (DomainEvent) on each change. */
export class DomainManager extends DomainRegistry {
  /** Defines a new persistent domain or replaces the definition of an existing one. */
  define(xml: string): { def: DomainDef; warnings: string[] } {
    const { def, warnings } = parseDomainXml(xml, { generateUuid: randomUUID });
    this.launcher.checkPolicy(def);
    const existing = this.conflictCheck(def);
    const text = formatDomainXml(def);
    this.store.saveConfig(def.name, text);
    if (existing === undefined) {
      this.records.set(def.uuid, newRecord(def, true));
    } else {
      existing.def = def;
      existing.persistent = true;
    }
    const rec = this.get(def.uuid);
    this.emitEvent(rec, 'defined', existing === undefined ? 'Added' : 'Updated');
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
    this.store.removeConfig(rec.def.name);
    if (isActive(rec)) {
      rec.persistent = false;
      this.launcher.saveStatus(rec);
    } else {
      this.records.delete(rec.def.uuid);
    }
    this.emitEvent(rec, 'undefined', 'Removed');
    return rec.def.name;
  }

  /** Starts a transient domain from XML. */
  async create(xml: string, paused: boolean): Promise<{ rec: DomainRecord; warnings: string[] }> {
    const { def, warnings } = parseDomainXml(xml, { generateUuid: randomUUID });
    const existing = this.conflictCheck(def);
    if (existing !== undefined && isActive(existing)) {
      throw new FerryError(
        'OPERATION_INVALID',
        `Requested operation is not valid: domain '${def.name}' is already active`,
      );
    }
    const rec = existing ?? newRecord(def, false);
    await this.locked(rec, async () => {
      await this.launcher.start(rec, def, paused);
      if (existing === undefined) this.records.set(def.uuid, rec);
    });
    this.#afterStart(rec, paused);
    return { rec, warnings };
  }

  async start(ref: string, paused: boolean): Promise<DomainRecord> {
    const rec = this.get(ref);
    await this.locked(rec, async () => {
      if (isActive(rec))
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: domain is already running',
        );
      await this.launcher.start(rec, rec.def, paused);
    });
    this.#afterStart(rec, paused);
    return rec;
  }

  /** Presses the ACPI power button; with `waitSeconds`, waits for the guest to power off. */
  async shutdown(ref: string, waitSeconds?: number): Promise<DomainRecord> {
    const rec = this.get(ref);
    const proc = this.requireActive(rec);
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
    await this.locked(rec, async () => {
      const proc = this.requireActive(rec);
      rec.stopping = 'destroyed';
      await proc.terminate();
      this.finishExit(rec, await proc.exited);
    });
    return rec.def.name;
  }

  async suspend(ref: string): Promise<string> {
    const rec = this.get(ref);
    await this.locked(rec, async () => {
      const proc = this.requireActive(rec);
      if (rec.state === 'paused')
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: domain is already paused',
        );
      await this.transition(rec, 'paused', 'user', () => proc.monitor.execute('stop'));
      this.emitEvent(rec, 'suspended', 'Paused');
    });
    return rec.def.name;
  }

  /**
   * Resumes a paused guest, or (as libvirt allows) a panicked one, which then carries on with
   * its panic: it flushes its console and reboots or halts as its kernel is set to.
   */
  async resume(ref: string): Promise<string> {
    const rec = this.get(ref);
    await this.locked(rec, async () => {
      const proc = this.requireActive(rec);
      if (rec.state !== 'paused' && rec.state !== 'crashed')
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: domain is not paused',
        );
      await this.transition(rec, 'running', 'unpaused', () => proc.monitor.execute('cont'));
      rec.panic = undefined;
      this.emitEvent(rec, 'resumed', 'Unpaused');
    });
    return rec.def.name;
  }

  /** Injects an NMI into every vCPU (virsh inject-nmi); guests may be set to panic on one. */
  async injectNmi(ref: string): Promise<string> {
    const rec = this.get(ref);
    await this.locked(rec, async () => {
      await this.requireActive(rec).monitor.execute('inject-nmi');
    });
    return rec.def.name;
  }

  async reboot(ref: string): Promise<string> {
    const rec = this.get(ref);
    await this.locked(rec, async () => {
      await this.requireActive(rec).monitor.execute('system_reset');
    });
    return rec.def.name;
  }

  /** Reserves the domain for a job; refuses while another runs, naming it. */
  acquireJob(rec: DomainRecord, job: ActiveJob): void {
    if (rec.job !== undefined) {
      throw new FerryError(
        'OPERATION_INVALID',
        `Requested operation is not valid: domain '${rec.def.name}' has a running job: ${rec.job.operation} (job ${rec.job.id})`,
      );
    }
    rec.job = job;
  }

  releaseJob(rec: DomainRecord, stats: JobStats): void {
    rec.job = undefined;
    rec.lastJob = stats;
  }

  /** Pauses a guest for a non-live migration (or a timeout's suspend). */
  async pauseForMigration(rec: DomainRecord): Promise<void> {
    const proc = this.requireActive(rec);
    await this.transition(rec, 'paused', 'migrating', () => proc.monitor.execute('stop'));
    this.emitEvent(rec, 'suspended', 'Migrated');
  }

  /** Resumes a source guest whose migration failed, as it was before the job. */
  async resumeAfterFailedMigration(rec: DomainRecord, wasRunning: boolean): Promise<void> {
    const proc = rec.proc;
    if (proc === undefined) return;
    const status = await proc.monitor.queryStatus();
    if (wasRunning && !status.running) {
      await this.transition(rec, 'running', 'migration canceled', () =>
        proc.monitor.execute('cont'),
      );
      this.emitEvent(rec, 'resumed', 'Migration canceled');
    } else if (wasRunning && (rec.state !== 'running' || rec.reason === 'unpaused')) {
      // QEMU stopped the guest for a switch-over that failed and resumed it by itself. A guest
      // that ran throughout (e.g. the destination refused it in prepare) keeps its state.
      this.setState(rec, 'running', 'migration canceled', 'resumed', 'Migration canceled');
    }
  }

  /** `def` with its volume disks resolved to what QEMU opens (files, network sources). */
  resolveDisks(def: DomainDef): Promise<DomainDef> {
    return this.launcher.resolveDisks(def);
  }

  /** Throws ACCESS_DENIED when this host's policy forbids what `def` asks (paths, passthrough). */
  checkPolicy(def: DomainDef): void {
    this.launcher.checkPolicy(def);
  }

  /**
   * Why `def` could not come in by migration (the checks of {@link startIncoming}, for a live
   * one), or undefined; changes nothing (the migration preflight asks this).
   */
  incomingConflict(def: DomainDef, offline: boolean): string | undefined {
    try {
      const existing = this.conflictCheck(def);
      if (!offline && existing !== undefined && isActive(existing))
        return `Requested operation is not valid: domain '${def.name}' is already active`;
    } catch (err) {
      return messageOf(err);
    }
    return undefined;
  }

  /** Starts QEMU waiting for an incoming migration of `def`; the domain shows paused (migrating). */
  async startIncoming(def: DomainDef): Promise<DomainRecord> {
    const existing = this.conflictCheck(def);
    if (existing !== undefined && isActive(existing)) {
      throw new FerryError(
        'OPERATION_INVALID',
        `Requested operation is not valid: domain '${def.name}' is already active`,
      );
    }
    const rec = existing ?? newRecord(def, false);
    await this.locked(rec, async () => {
      await this.launcher.start(rec, def, true, true);
      if (existing === undefined) this.records.set(def.uuid, rec);
    });
    this.emitEvent(rec, 'started', 'Migrated');
    this.watchExit(rec);
    return rec;
  }

  /** After a completed incoming stream: run the guest (or keep it paused), persist if asked. */
  async finishIncoming(rec: DomainRecord, resume: boolean, persistent: boolean): Promise<void> {
    const proc = this.requireActive(rec);
    if (persistent && rec.liveDef !== undefined) {
      this.store.saveConfig(rec.liveDef.name, formatDomainXml(rec.liveDef));
      rec.def = rec.liveDef;
      rec.persistent = true;
      this.launcher.saveStatus(rec);
      this.emitEvent(rec, 'defined', 'Migrated');
    }
    if (resume) {
      await this.transition(rec, 'running', 'migrated', () => proc.monitor.execute('cont'));
      this.emitEvent(rec, 'resumed', 'Migrated');
    } else {
      this.setState(rec, 'paused', 'user', 'suspended', 'Paused');
    }
  }

  /** Ends the QEMU of a migration that did not complete here; a new record disappears. */
  async discardIncoming(rec: DomainRecord): Promise<void> {
    await this.locked(rec, async () => {
      const proc = rec.proc;
      if (proc === undefined) return;
      rec.stopping = 'destroyed';
      await proc.terminate();
      this.finishExit(rec, await proc.exited);
    });
  }

  /** Stops the source QEMU after a completed migration: shut off (migrated), undefined if asked. */
  async stopMigrated(rec: DomainRecord, undefineSource: boolean): Promise<void> {
    await this.locked(rec, async () => {
      const proc = rec.proc;
      if (proc === undefined) return;
      rec.stopping = 'migrated';
      await proc.terminate();
      this.finishExit(rec, await proc.exited);
    });
    if (undefineSource && rec.persistent) this.undefine(rec.def.uuid);
  }

  #afterStart(rec: DomainRecord, paused: boolean): void {
    this.emitEvent(rec, 'started', 'Booted');
    if (paused) this.emitEvent(rec, 'suspended', 'Paused');
    this.watchExit(rec);
  }
}
