/**
 * Guests with disks on testbed hosts, for the storage migration tests: `<disk>` elements (file,
 * network nbd/nfs, volume), images made and inspected inside a host with qemu-img (each host has
 * its own /var/lib/ferry; /tmp is shared), the test guest's disk workload on the kernel command
 * line, and the checks on what that workload reports after a migration.
 * @module
 */
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import type { TestContext } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import type { Heartbeat } from '../../guest/heartbeat.js';
import { readHeartbeats, waitForHeartbeat } from './guest.js';
import { assertOneLife } from './migration.js';
import { execOk, listOf, startGuestOn } from './remote.js';

/** Per-host image directory: each testbed host has its own /var/lib/ferry. */
export const HOST_IMAGES = '/var/lib/ferry/images';
export const MiB = 1024 * 1024;

export type ImageFormat = 'raw' | 'qcow2';

interface DiskOptions {
  dev?: string;
  format?: ImageFormat;
}

function driver(o: DiskOptions): string {
  return `<driver name='qemu' type='${o.format ?? 'raw'}' cache='none'/>`;
}

function target(o: DiskOptions): string {
  return `<target dev='${o.dev ?? 'vda'}' bus='virtio'/>`;
}

/** A `<disk type='file'>` on `path` (cache='none', as the workload wants). */
export function fileDisk(path: string, o: DiskOptions = {}): string {
  return `
    <disk type='file' device='disk'>
      ${driver(o)}
      <source file='${path}'/>
      ${target(o)}
    </disk>`;
}

/** A `<disk type='network'>` on NBD export `name` of `host:port`. */
export function nbdDisk(host: string, port: number, name: string, o: DiskOptions = {}): string {
  return `
    <disk type='network' device='disk'>
      ${driver(o)}
      <source protocol='nbd' name='${name}'>
        <host name='${host}' port='${port}'/>
      </source>
      ${target(o)}
    </disk>`;
}

/** A `<disk type='network'>` on the NFS file `path` of `host`, opened by QEMU as root. */
export function nfsDisk(host: string, path: string, o: DiskOptions = {}): string {
  return `
    <disk type='network' device='disk'>
      ${driver(o)}
      <source protocol='nfs' name='${path}'>
        <host name='${host}'/>
        <identity user='root' group='root'/>
      </source>
      ${target(o)}
    </disk>`;
}

/** A `<disk type='volume'>` on `volume` of storage pool `pool`. */
export function volumeDisk(pool: string, volume: string, o: DiskOptions = {}): string {
  return `
    <disk type='volume' device='disk'>
      ${driver(o)}
      <source pool='${pool}' volume='${volume}'/>
      ${target(o)}
    </disk>`;
}

/** The test guest's disk workload (guest/README.md): kept slow, QEMU 7.2 TCG wants it so. */
export interface DiskWorkload {
  dev?: string;
  /** MiB/s written (default 0.5; at most 2 in these tests). */
  rate?: number;
  /**
   * Size of the region used (default 8 MiB). Small, so the verifier completes sweeps even on
   * a network disk under TCG, where the writer alone takes most of the guest's time.
   */
  mb?: number;
  /** Check the disk against its record at boot. */
  check?: boolean;
}

export function diskCmdline(w: DiskWorkload = {}): string {
  return [
    `ferry.disk=${w.dev ?? '/dev/vda'}`,
    `ferry.disk_rate=${w.rate ?? 0.5}`,
    `ferry.disk_mb=${w.mb ?? 8}`,
    ...(w.check === true ? ['ferry.disk_check=1'] : []),
  ].join(' ');
}

/** Creates an image inside `host` (its directory made first); `backing` makes an overlay. */
export async function createImageOn(
  host: TestbedHost,
  path: string,
  format: ImageFormat,
  size: string,
  backing?: { file: string; format: ImageFormat },
): Promise<void> {
  if (!path.startsWith('nfs://')) await execOk(host, ['mkdir', '-p', dirname(path)]);
  const args = ['qemu-img', 'create', '-q', '-f', format];
  if (backing !== undefined) args.push('-b', backing.file, '-F', backing.format);
  await execOk(host, [...args, path, size]);
}

/** Writes `length` bytes of `pattern` at `offset` into an image inside `host` (qemu-io). */
export async function fillImageOn(
  host: TestbedHost,
  path: string,
  format: ImageFormat,
  offset: string,
  length: string,
  pattern = 0x5a,
): Promise<void> {
  await execOk(host, [
    'qemu-io',
    '-f',
    format,
    '-c',
    `write -P ${pattern} ${offset} ${length}`,
    path,
  ]);
}

export interface HostImageInfo {
  format: string;
  virtualSize: number;
  backingFile?: string;
}

/** `qemu-img info` of an image inside `host`; undefined when there is no such file. */
export async function imageInfoOn(
  host: TestbedHost,
  path: string,
): Promise<HostImageInfo | undefined> {
  if (!(await existsOn(host, path))) return undefined;
  const raw = JSON.parse(
    await execOk(host, ['qemu-img', 'info', '--output=json', '-U', path]),
  ) as Record<string, unknown>;
  const info: HostImageInfo = {
    format: String(raw['format']),
    virtualSize: Number(raw['virtual-size']),
  };
  if (typeof raw['backing-filename'] === 'string') info.backingFile = raw['backing-filename'];
  return info;
}

/** Whether `path` exists inside `host`. */
export async function existsOn(host: TestbedHost, path: string): Promise<boolean> {
  return (await host.exec(['test', '-e', path])).code === 0;
}

/** sha256 of a file inside `host` (to show an image was left untouched). */
export async function sha256On(host: TestbedHost, path: string): Promise<string> {
  return (await execOk(host, ['sha256sum', path])).split(' ')[0] ?? '';
}

export interface DiskGuestOptions {
  name: string;
  /** The `<disk>` elements. */
  disks: string;
  workload?: DiskWorkload;
  hbMs?: number;
}

/**
 * Defines and starts the test guest on `host` with `disks` and the disk workload, and waits
 * until its verifier has swept its disk once. Returns the serial log (in the shared /tmp).
 */
export async function startDiskGuestOn(
  t: TestContext,
  host: TestbedHost,
  o: DiskGuestOptions,
): Promise<string> {
  const serial = await startGuestOn(t, host, {
    name: o.name,
    hbMs: o.hbMs ?? 500,
    extraDevices: o.disks,
    extraCmdline: diskCmdline(o.workload),
  });
  await waitForSweeps(serial, 1, 0);
  return serial;
}

/** The last heartbeat's disk sweep count (0 before the first). */
export function lastSweeps(serial: string): number {
  return readHeartbeats(serial).at(-1)?.diskSweeps ?? 0;
}

/** Waits until `disk_sweeps` reaches `from + more` (`from`: now). */
export async function waitForSweeps(
  serial: string,
  more: number,
  from = lastSweeps(serial),
  timeoutMs = 120_000,
): Promise<Heartbeat> {
  return waitForHeartbeat(serial, {
    timeoutMs,
    pred: (hb) => (hb.diskSweeps ?? 0) >= from + more,
  });
}

/** Every heartbeat so far: no corrupt or lost disk block, no corrupt page, one life. */
export function assertDiskClean(serial: string): void {
  const beats = readHeartbeats(serial);
  const bad = beats.filter((hb) => hb.diskCorrupt !== 0 || hb.diskLost !== 0);
  // The guest's own account of what it found, for whoever reads a failure.
  const evidence = readFileSync(serial, 'utf8')
    .split('\n')
    .filter((l) => /FERRY-(DISK-|CORRUPT|ERROR|WARN)|Oops|BUG|I\/O error/.test(l))
    .slice(0, 12)
    .join('\n');
  assert.deepEqual(
    bad.map((hb) => ({ seq: hb.seq, corrupt: hb.diskCorrupt, lost: hb.diskLost })),
    [],
    `no corrupt or lost disk block; the guest said:\n${evidence}`,
  );
  assertOneLife(serial);
}

/**
 * After a migration: the verifier sweeps the whole written region twice more (on the
 * destination) and everything it and the memory verifier saw is clean.
 */
export async function assertDiskSurvived(serial: string): Promise<void> {
  const after = await waitForSweeps(serial, 2);
  assert.ok((after.diskWritten ?? 0) > 0, 'the disk writer writes');
  assertDiskClean(serial);
}

/** The state of `name` in `ferry list --all` of `host`; undefined when it is not there. */
export async function stateOn(host: TestbedHost, name: string): Promise<string | undefined> {
  return (await listOf(host)).find(([n]) => n === name)?.[1];
}
