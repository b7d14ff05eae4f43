/**
 * Disks of a shut-off guest copied to the destination (what the chapter leaves to the user):
 * the destination serves the target images over NBD from a qemu-storage-daemon of its own,
 * the source writes them with `qemu-img convert` (progress from its -p output) and then reads
 * both back with `qemu-img compare`: the copy counts only when every byte matches.
 * @module
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FerryError, messageOf } from '../../common/errors.js';
import type { QemuProcess } from '../../qemu/index.js';
import { launchStorageDaemon } from '../../storage/export-host.js';
import { diskNodeNames } from '../../qemu/disk-args.js';
import { formatHostPort } from '../../rpc/index.js';
import type { CopiedDisk } from '../../rpc/schema/migration-disks.js';
import { allocatePort } from '../ports.js';
import { runTool } from '../../storage/tools.js';
import { exportName, startDiskExports } from './nbd-export.js';
import { removeCreated } from './targets.js';

/** The destination's NBD server for an offline copy: one storage daemon, one export per disk. */
export class OfflineTargets {
  readonly port: number;
  readonly #proc: QemuProcess;
  readonly #devs: readonly string[];
  readonly #created: readonly string[];

  private constructor(port: number, proc: QemuProcess, devs: string[], created: string[]) {
    this.port = port;
    this.#proc = proc;
    this.#devs = devs;
    this.#created = created;
  }

  /** Serves `targets` (already prepared; `created` are the ones made for this job). */
  static async open(
    targets: readonly CopiedDisk[],
    created: string[],
    at: {
      listen: string;
      range: readonly [number, number];
      taken: ReadonlySet<number>;
      runDir: string;
      jobId: string;
    },
  ): Promise<OfflineTargets> {
    const qmpSocket = join(at.runDir, `offline-${at.jobId}.qmp`);
    let proc: QemuProcess | undefined;
    try {
      proc = await launchStorageDaemon({
        qmpSocket,
        logFile: join(at.runDir, `offline-${at.jobId}.log`),
      });
      for (const t of targets) {
        const names = diskNodeNames(t.dev);
        await proc.qmp.execute('blockdev-add', {
          driver: t.format,
          'node-name': names.format,
          file: { driver: 'file', filename: t.path, 'node-name': names.storage },
        });
      }
      // The same NBD server and exports a live copy's destination QEMU serves.
      const port = await allocatePort(at.listen, at.range, at.taken);
      await startDiskExports(proc.qmp, {
        listen: at.listen,
        port,
        devs: targets.map((t) => t.dev),
        tls: false,
      });
      return new OfflineTargets(
        port,
        proc,
        targets.map((t) => t.dev),
        created,
      );
    } catch (err) {
      await proc?.terminate().catch(() => undefined);
      removeCreated(created);
      throw new FerryError(
        'OPERATION_FAILED',
        `Cannot serve the disk targets for the copy: ${messageOf(err)}`,
        { cause: err },
      );
    }
  }

  /** Closes the images (flushed) and stops the daemon; a failed job's created images go. */
  async close(success: boolean): Promise<void> {
    const qmp = this.#proc.qmp;
    for (const dev of this.#devs) {
      await qmp.execute('block-export-del', { id: exportName(dev) }).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 50));
    for (const dev of this.#devs) {
      await qmp
        .execute('blockdev-del', { 'node-name': diskNodeNames(dev).format })
        .catch(() => undefined);
    }
    await this.#proc.terminate().catch(() => undefined);
    if (!success) removeCreated(this.#created);
  }
}

/** `nbd://HOST:PORT/EXPORT` of a disk's target. */
function targetUrl(nbd: { host: string; port: number }, dev: string): string {
  return `nbd://${formatHostPort(nbd.host, nbd.port)}/${exportName(dev)}`;
}

/** Runs `qemu-img convert -p`, calling `onBytes` with the bytes written so far. */
function convert(
  disk: CopiedDisk,
  target: string,
  onBytes: (bytes: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'qemu-img',
      ['convert', '-p', '-n', '-W', '-f', disk.format, '-O', 'raw', disk.path, target],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const all = [...chunk.toString().matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
      const last = all.at(-1)?.[1];
      if (last !== undefined) onBytes(Math.round((Number(last) / 100) * disk.virtualSize));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      reject(
        new FerryError(
          'OPERATION_FAILED',
          `qemu-img convert: ${stderr.trim().split('\n')[0] ?? `exit ${code}`}`,
        ),
      );
    });
  });
}

/**
 * The source's half: copies each disk into the destination's export, then compares the two
 * images byte for byte. Throws naming the disk on the first failure.
 */
export async function copyDisksOffline(
  disks: readonly CopiedDisk[],
  nbd: { host: string; port: number },
  onProgress: (processed: number, total: number) => void,
): Promise<void> {
  const total = disks.reduce((sum, d) => sum + d.virtualSize, 0);
  let done = 0;
  for (const disk of disks) {
    const target = targetUrl(nbd, disk.dev);
    try {
      await convert(disk, target, (bytes) => onProgress(done + bytes, total));
      await runTool(
        'qemu-img',
        ['compare', '-f', disk.format, '-F', 'raw', disk.path, target],
        'qemu-img compare',
        { timeoutMs: 3_600_000 },
      );
    } catch (err) {
      throw new FerryError(
        'OPERATION_FAILED',
        `Copying disk '${disk.dev}' (${disk.path}) to the destination failed: ${messageOf(err)}`,
        { cause: err },
      );
    }
    done += disk.virtualSize;
    onProgress(done, total);
  }
}
