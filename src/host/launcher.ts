/**
 * Turns a domain record into a running QEMU and back: checks what the definition needs from
 * the host before anything is spawned, builds the argv, launches, and re-attaches after a
 * ferryd restart. Nothing here changes a record until the step that could fail has passed.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { FerryError, messageOf } from '../common/errors.js';
import { withBootDefaults } from '../domain/defaults.js';
import type { DomainDef } from '../domain/def.js';
import { writeFileAtomic, type DomainStore, type RuntimeStatus } from '../domain/store.js';
import { formatDomainXml, parseDomainXml } from '../domain/xml/index.js';
import { checkHostPolicy, qemuCommandlineArgs, type HostPolicy } from './policy.js';
import { buildCommandLine, checkKvmDevice, effectiveSerials, QemuProcess } from '../qemu/index.js';
import type { StatusInfo } from '../qemu/index.js';
import { newRecord, type DomainRecord } from './domain-record.js';
import type { Logger } from './logger.js';
import type { VolumeResolver } from '../storage/resolve.js';
import { resolveVolumeDisks } from './volume-disks.js';

export interface LauncherOptions {
  qemuBinary: string;
  kvmDevice: string;
  /** Runtime files: QMP sockets, pidfiles, pty console logs. */
  runDir: string;
  /** QEMU's own log, one file per domain (as /var/log/libvirt/qemu/NAME.log). */
  logDir: string;
  /** Where the next domain id is remembered across restarts. */
  idFile: string;
  logger: Logger;
  /** What definitions may ask of this host (paths, QEMU passthrough). */
  policy: HostPolicy;
  /** Finds the volumes `<disk type='volume'>` names (ferryd's storage pools). */
  volumes?: VolumeResolver;
  /**
   * Refuses (CPU_INCOMPATIBLE) a guest whose CPU this host must not offer (ferryd.conf
   * cpu_limit); incoming guests were checked at prepare. Absent: no check.
   */
  checkCpu?: ((def: DomainDef) => Promise<void>) | undefined;
  /**
   * Refuses a definition whose machine type this host does not support (ferryd.conf
   * machine_types); asks the QEMU binary, so it is async and runs before anything is spawned.
   */
  checkMachineType?: (def: DomainDef) => Promise<void>;
}

export class Launcher {
  readonly #opts: LauncherOptions;
  readonly #store: DomainStore;
  #nextId: number;

  constructor(opts: LauncherOptions, store: DomainStore) {
    this.#opts = opts;
    this.#store = store;
    mkdirSync(opts.runDir, { recursive: true, mode: 0o755 });
    mkdirSync(opts.logDir, { recursive: true, mode: 0o700 });
    this.#nextId = readNextId(opts.idFile);
  }

  /**
   * Starts QEMU for `def` and fills in the record's runtime fields once it runs. A fresh boot
   * gets Ferry's boot defaults (pvpanic); an incoming guest keeps exactly the source's devices.
   */
  async start(rec: DomainRecord, def: DomainDef, paused: boolean, incoming = false): Promise<void> {
    const live = incoming ? def : withBootDefaults(def);
    // QEMU and the host checks see volumes as the files or network sources they are.
    const runnable = await this.resolveDisks(live);
    this.#checkHost(runnable);
    if (!incoming) await this.#opts.checkCpu?.(runnable);
    await this.#opts.checkMachineType?.(runnable);
    const base = join(this.#opts.runDir, def.uuid);
    const qmpSocket = `${base}.qmp`;
    const pidFile = `${base}.pid`;
    const ptyLog = `${base}.console.log`;
    rmSync(qmpSocket, { force: true });
    // Unlike libvirt, no -S unless asked: ferryd sets nothing up before the vCPUs run, and a
    // guest that waits for the monitor handshake boots later than bare QEMU (bench/README.md).
    const args = buildCommandLine(runnable, {
      qmpSocket,
      pidFile,
      // An incoming guest stays paused after the stream until the job's finish phase.
      startPaused: paused || incoming,
      ptyLogFile: ptyLog,
      ...(incoming ? { incoming: 'defer' as const } : {}),
    });
    if (this.#opts.policy.qemuCommandline) args.push(...qemuCommandlineArgs(live));
    const qemuLog = this.#qemuLogOf(def.name);
    const proc = await QemuProcess.launch({
      binary: this.#opts.qemuBinary,
      args,
      logFile: qemuLog,
      qmpSocket,
    });
    const id = this.#allocateId();
    Object.assign(rec, {
      id,
      proc,
      liveDef: live,
      state: paused || incoming ? 'paused' : 'running',
      reason: incoming ? 'migrating' : paused ? 'user' : 'booted',
      stopping: undefined,
      consoleLog: consoleLogOf(live, ptyLog),
      qemuLog,
      panic: undefined,
    } satisfies Partial<DomainRecord>);
    if (rec.def.uuid !== def.uuid || !rec.persistent) rec.def = def;
    this.saveStatus(rec);
    this.#opts.logger.info({ domain: def.name, id, pid: proc.pid }, 'domain started');
  }

  saveStatus(rec: DomainRecord): void {
    if (rec.proc === undefined || rec.id === null || rec.liveDef === undefined) return;
    const status: RuntimeStatus = {
      uuid: rec.def.uuid,
      name: rec.def.name,
      id: rec.id,
      pid: rec.proc.pid,
      qmpSocket: join(this.#opts.runDir, `${rec.def.uuid}.qmp`),
      liveXml: formatDomainXml(rec.liveDef),
      persistent: rec.persistent,
      startedAt: Date.now(),
    };
    this.#store.saveStatus(status);
  }

  /** Removes the runtime files of a domain whose QEMU has ended. */
  cleanup(uuid: string): void {
    this.#store.removeStatus(uuid);
    const base = join(this.#opts.runDir, uuid);
    for (const suffix of ['.qmp', '.pid']) rmSync(base + suffix, { force: true });
  }

  /**
   * Re-attaches to the QEMU a status file describes. Returns the live record, or the persistent
   * record marked shut off when the process is gone, or undefined for a vanished transient one.
   */
  async reattach(
    status: RuntimeStatus,
    persistent: DomainRecord | undefined,
  ): Promise<DomainRecord | undefined> {
    const log = this.#opts.logger;
    let liveDef: DomainDef;
    try {
      liveDef = parseDomainXml(status.liveXml).def;
    } catch (err) {
      log.error({ domain: status.name, err }, 'status file holds an unreadable definition');
      this.#store.removeStatus(status.uuid);
      return persistent;
    }
    const stopped = (reason: string, message: string, extra: object): DomainRecord | undefined => {
      log.warn({ domain: status.name, pid: status.pid, reason, ...extra }, message);
      this.#store.removeStatus(status.uuid);
      if (persistent !== undefined) {
        persistent.state = 'shut off';
        persistent.reason = reason;
      }
      return persistent;
    };
    let proc: QemuProcess;
    let runState: StatusInfo;
    try {
      proc = await QemuProcess.attach(status.pid, status.qmpSocket);
      runState = await proc.monitor.queryStatus();
    } catch (err) {
      // QEMU waits after a guest power-off (-no-shutdown), so one that is gone was killed or died.
      return stopped('crashed', 'QEMU is gone; domain marked shut off', { err: messageOf(err) });
    }
    if (runState.status === 'shutdown') {
      await proc.terminate();
      this.cleanup(status.uuid);
      return stopped(
        'shutdown',
        'guest powered off while ferryd was down; domain marked shut off',
        {},
      );
    }
    const running = runState.running;
    // The panic's details went with the ferryd that saw the event; QEMU's state still tells.
    const panicked = runState.status === 'guest-panicked';
    this.#nextId = Math.max(this.#nextId, status.id + 1);
    log.info(
      { domain: status.name, id: status.id, pid: status.pid },
      're-attached to running domain',
    );
    const rec: DomainRecord = persistent ?? newRecord(liveDef, false);
    Object.assign(rec, {
      id: status.id,
      proc,
      liveDef,
      persistent: persistent !== undefined && status.persistent,
      state: panicked ? 'crashed' : running ? 'running' : 'paused',
      reason: panicked ? 'panicked' : running ? 'booted' : 'unknown',
      consoleLog: consoleLogOf(liveDef, join(this.#opts.runDir, `${status.uuid}.console.log`)),
      qemuLog: this.#qemuLogOf(status.name),
    } satisfies Partial<DomainRecord>);
    return rec;
  }

  /** `def` with its volume disks resolved through this host's storage pools. */
  resolveDisks(def: DomainDef): Promise<DomainDef> {
    return resolveVolumeDisks(def, this.#opts.volumes);
  }

  /** Throws ACCESS_DENIED when the host's policy forbids what `def` asks (see policy.ts). */
  checkPolicy(def: DomainDef): void {
    checkHostPolicy(def, this.#opts.policy);
  }

  /** Checks, before spawning, everything the definition needs from this host. */
  #checkHost(def: DomainDef): void {
    this.checkPolicy(def);
    const files: [string, string | undefined][] = [
      ['Kernel', def.os.kernel],
      ['Initrd', def.os.initrd],
      ...def.devices.disks.map((d): [string, string | undefined] => [
        `Disk '${d.target.dev}' source`,
        d.source,
      ]),
    ];
    for (const [what, path] of files) {
      if (path !== undefined && !existsSync(path)) {
        throw new FerryError('INVALID_ARG', `${what} '${path}' does not exist`);
      }
    }
    if (def.type === 'kvm') checkKvmDevice(this.#opts.kvmDevice);
    const hostKiB = totalmem() / 1024;
    if (def.memoryKiB > hostKiB) {
      throw new FerryError(
        'OPERATION_FAILED',
        `Domain '${def.name}' needs ${def.memoryKiB} KiB of memory but this host has only ${Math.floor(hostKiB)} KiB`,
      );
    }
    for (const serial of effectiveSerials(def)) {
      if (serial.type === 'file' && serial.path !== undefined) {
        const dir = serial.path.slice(0, serial.path.lastIndexOf('/')) || '/';
        if (!existsSync(dir) || !statSync(dir).isDirectory()) {
          throw new FerryError('INVALID_ARG', `Serial log directory '${dir}' does not exist`);
        }
      }
    }
  }

  #qemuLogOf(name: string): string {
    return join(this.#opts.logDir, `${name}.log`);
  }

  #allocateId(): number {
    const id = this.#nextId++;
    writeFileAtomic(this.#opts.idFile, `${this.#nextId}\n`, 0o644);
    return id;
  }
}

function readNextId(path: string): number {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 1;
  } catch {
    return 1;
  }
}

/** The file the guest's first serial port writes to: its own file, or the pty's log. */
function consoleLogOf(def: DomainDef, ptyLog: string): string | undefined {
  const first = effectiveSerials(def)[0];
  if (first === undefined) return undefined;
  if (first.type === 'file') return first.path;
  return first.type === 'pty' ? ptyLog : undefined;
}
