/**
 * The NBD export host: one qemu-storage-daemon per exported dir pool, serving each volume as a
 * writable NBD export named after it. The daemon runs detached like a guest's QEMU (it outlives
 * ferryd, which re-attaches through its QMP socket and pidfile) and is driven over QMP:
 * nbd-server-start, then per volume blockdev-add (file node + format node) and
 * block-export-add, whose description names the pool's UUID and the volume so that a client
 * listing the exports can prove which image it sees.
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError, messageOf } from '../common/errors.js';
import { writeFileAtomic } from '../domain/store.js';
import { QemuProcess } from '../qemu/index.js';
import { QmpCommandError } from '../qmp/index.js';
import { exportDescription } from './nbd-list.js';

/** The binary Debian's qemu-system-x86 ships next to QEMU. */
export const STORAGE_DAEMON_BINARY = 'qemu-storage-daemon';

/** What ferryd remembers of a running export host, in RUN_DIR/storage/UUID.export.json. */
export interface ExportRecord {
  pool: string;
  poolUuid: string;
  pid: number;
  qmpSocket: string;
  listen: string;
  port: number;
}

/** A volume as the export host serves it. */
export interface ExportedVolume {
  name: string;
  path: string;
  format: string;
}

/**
 * Starts a detached qemu-storage-daemon with nothing but its QMP monitor at `qmpSocket` (and
 * a pidfile when given); everything else is set up over QMP.
 */
export function launchStorageDaemon(o: {
  qmpSocket: string;
  logFile: string;
  pidFile?: string;
}): Promise<QemuProcess> {
  rmSync(o.qmpSocket, { force: true });
  return QemuProcess.launch({
    binary: STORAGE_DAEMON_BINARY,
    args: [
      '--chardev',
      `socket,id=monitor,path=${o.qmpSocket.replaceAll(',', ',,')},server=on,wait=off`,
      '--monitor',
      'chardev=monitor',
      ...(o.pidFile === undefined ? [] : ['--pidfile', o.pidFile]),
    ],
    logFile: o.logFile,
    qmpSocket: o.qmpSocket,
  });
}

/** QEMU node names allow [A-Za-z0-9_.-], 31 characters at most: derived from the name's hash. */
function nodeIds(volume: string): { file: string; format: string; export: string } {
  const h = createHash('sha256').update(volume).digest('hex').slice(0, 24);
  return { file: `f${h}`, format: `v${h}`, export: `e${h}` };
}

export interface LaunchExportOptions {
  pool: string;
  poolUuid: string;
  listen: string;
  port: number;
  /** RUN_DIR/storage: QMP socket, pidfile and record. */
  runDir: string;
  logFile: string;
}

export class NbdExportHost {
  readonly record: ExportRecord;
  readonly #proc: QemuProcess;

  private constructor(record: ExportRecord, proc: QemuProcess) {
    this.record = record;
    this.#proc = proc;
  }

  /** Resolves when the storage daemon has gone (its QMP socket closed). */
  get exited(): Promise<unknown> {
    return this.#proc.exited;
  }

  static recordPath(runDir: string, poolUuid: string): string {
    return join(runDir, `${poolUuid}.export.json`);
  }

  /** Starts the storage daemon with an NBD server on listen:port; no volumes yet. */
  static async launch(o: LaunchExportOptions): Promise<NbdExportHost> {
    const qmpSocket = join(o.runDir, `${o.poolUuid}.qmp`);
    const pidFile = join(o.runDir, `${o.poolUuid}.pid`);
    const proc = await launchStorageDaemon({ qmpSocket, logFile: o.logFile, pidFile }).catch(
      (err: unknown) => {
        throw new FerryError(
          'OPERATION_FAILED',
          `cannot start ${STORAGE_DAEMON_BINARY} for pool '${o.pool}': ${messageOf(err)}`,
          { cause: err },
        );
      },
    );
    const record: ExportRecord = {
      pool: o.pool,
      poolUuid: o.poolUuid,
      pid: proc.pid,
      qmpSocket,
      listen: o.listen,
      port: o.port,
    };
    const host = new NbdExportHost(record, proc);
    try {
      await proc.qmp.execute('nbd-server-start', {
        addr: { type: 'inet', data: { host: o.listen, port: String(o.port) } },
      });
    } catch (err) {
      await proc.terminate();
      rmSync(pidFile, { force: true });
      throw new FerryError(
        'OPERATION_FAILED',
        `cannot serve NBD on ${o.listen}:${o.port} for pool '${o.pool}': ${messageOf(err)}`,
        { cause: err },
      );
    }
    writeFileAtomic(
      NbdExportHost.recordPath(o.runDir, o.poolUuid),
      `${JSON.stringify(record, null, 2)}\n`,
    );
    return host;
  }

  /** Re-attaches to the storage daemon a record describes; rejects when it is gone. */
  static async attach(runDir: string, poolUuid: string): Promise<NbdExportHost> {
    const record = JSON.parse(
      readFileSync(NbdExportHost.recordPath(runDir, poolUuid), 'utf8'),
    ) as ExportRecord;
    const proc = await QemuProcess.attach(record.pid, record.qmpSocket);
    return new NbdExportHost(record, proc);
  }

  /** Whether the process a record names is still a storage daemon (PIDs get reused). */
  static alive(runDir: string, poolUuid: string): boolean {
    try {
      const record = JSON.parse(
        readFileSync(NbdExportHost.recordPath(runDir, poolUuid), 'utf8'),
      ) as ExportRecord;
      return readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').startsWith(STORAGE_DAEMON_BINARY);
    } catch {
      return false;
    }
  }

  /** Removes the record, pidfile and socket of an export host that has ended. */
  static removeFiles(runDir: string, poolUuid: string): void {
    for (const f of [`${poolUuid}.export.json`, `${poolUuid}.pid`, `${poolUuid}.qmp`])
      rmSync(join(runDir, f), { force: true });
  }

  /** The names of the volumes exported now, by the export ids QEMU reports. */
  async exportIds(): Promise<Set<string>> {
    const list = await this.#proc.qmp.execute<{ id: string }[]>('query-block-exports');
    return new Set(list.map((e) => e.id));
  }

  /** Exports one volume (writable); undoes its half-added nodes when a step fails. */
  async add(vol: ExportedVolume): Promise<void> {
    const ids = nodeIds(vol.name);
    const qmp = this.#proc.qmp;
    const added: string[] = [];
    try {
      await qmp.execute('blockdev-add', {
        driver: 'file',
        'node-name': ids.file,
        filename: vol.path,
      });
      added.push(ids.file);
      await qmp.execute('blockdev-add', {
        driver: vol.format,
        'node-name': ids.format,
        file: ids.file,
      });
      added.push(ids.format);
      await qmp.execute('block-export-add', {
        type: 'nbd',
        id: ids.export,
        'node-name': ids.format,
        name: vol.name,
        writable: true,
        description: exportDescription(this.record.poolUuid, vol.name),
      });
    } catch (err) {
      for (const node of added.reverse())
        await qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
      throw new FerryError(
        'OPERATION_FAILED',
        `cannot export volume '${vol.name}': ${messageOf(err)}`,
        { cause: err },
      );
    }
  }

  /**
   * Stops exporting a volume. Refused (mode 'safe') while an NBD client is connected to it: a
   * guest on another host may be running on it.
   */
  async remove(name: string): Promise<void> {
    const ids = nodeIds(name);
    await this.#removeById(ids, name);
  }

  /** Whether `name` is exported now. */
  async has(name: string): Promise<boolean> {
    return (await this.exportIds()).has(nodeIds(name).export);
  }

  /**
   * Makes the exports match `volumes`: adds the missing, removes those whose volume has gone.
   * Returns what could not be done, one line each (the rest is done regardless).
   */
  async sync(volumes: readonly ExportedVolume[]): Promise<string[]> {
    const problems: string[] = [];
    const current = await this.exportIds();
    const wanted = new Map(volumes.map((v) => [nodeIds(v.name).export, v]));
    for (const [id, vol] of wanted) {
      if (current.has(id)) continue;
      await this.add(vol).catch((err: unknown) => problems.push(messageOf(err)));
    }
    for (const id of current) {
      if (wanted.has(id)) continue;
      const h = id.slice(1);
      await this.#removeById({ file: `f${h}`, format: `v${h}`, export: id }, id).catch(
        (err: unknown) => problems.push(messageOf(err)),
      );
    }
    return problems;
  }

  async #removeById(ids: ReturnType<typeof nodeIds>, what: string): Promise<void> {
    const qmp = this.#proc.qmp;
    // The export goes away asynchronously: its nodes can be deleted once QEMU says so.
    const deleted = qmp.waitForEvent('BLOCK_EXPORT_DELETED', {
      predicate: (ev) => ev.data['id'] === ids.export,
      timeoutMs: 30_000,
    });
    try {
      await qmp.execute('block-export-del', { id: ids.export, mode: 'safe' });
    } catch (err) {
      deleted.catch(() => undefined);
      if (err instanceof QmpCommandError && /not found/i.test(err.desc)) return;
      if (err instanceof QmpCommandError && /in use/i.test(err.desc))
        throw new FerryError(
          'OPERATION_INVALID',
          `Requested operation is not valid: volume '${what}' is in use by an NBD client (a guest on another host may be running on it)`,
          { cause: err },
        );
      throw new FerryError(
        'OPERATION_FAILED',
        `cannot stop exporting '${what}': ${messageOf(err)}`,
        {
          cause: err,
        },
      );
    }
    await deleted;
    for (const node of [ids.format, ids.file])
      await qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
  }

  /** Lets go of the storage daemon, which keeps serving (ferryd is stopping). */
  detach(): void {
    this.#proc.qmp.close();
  }

  /** Ends the storage daemon (clients are cut off) and resolves once it has gone. */
  async stop(runDir: string): Promise<void> {
    await this.#proc.terminate();
    NbdExportHost.removeFiles(runDir, this.record.poolUuid);
  }
}
