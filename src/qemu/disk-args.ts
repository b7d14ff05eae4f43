/**
 * A disk's QEMU arguments as libvirt builds them since 5.x: two `-blockdev` nodes (the
 * protocol layer that reaches the bytes, and the format layer that reads raw or qcow2 on
 * top) with fixed node names, and a guest device on the format node. Fixed names are what
 * storage migration addresses: the source mirrors from a disk's format node and the
 * destination exports its format node over NBD.
 * @module
 */
import type { DiskDef, NetworkDiskSource } from '../domain/def.js';
import { FerryError } from '../common/errors.js';

/** The node names of one disk, by its target ('vda'). */
export function diskNodeNames(dev: string): { storage: string; format: string } {
  return { storage: `ferry-${dev}-storage`, format: `ferry-${dev}-format` };
}

/** QEMU's default NBD port, and the one Ferry's export hosts use. */
export const NBD_DEFAULT_PORT = 10809;

interface CacheFlags {
  direct: boolean;
  noFlush: boolean;
  writeCache: boolean;
}

/** libvirt's mapping of <driver cache='…'> onto -blockdev cache flags and the device's write-cache. */
function cacheFlags(mode: string | undefined): CacheFlags {
  switch (mode) {
    case 'none':
      return { direct: true, noFlush: false, writeCache: true };
    case 'writethrough':
      return { direct: false, noFlush: false, writeCache: false };
    case 'directsync':
      return { direct: true, noFlush: false, writeCache: false };
    case 'unsafe':
      return { direct: false, noFlush: true, writeCache: true };
    default: // 'writeback' and unset: QEMU's default
      return { direct: false, noFlush: false, writeCache: true };
  }
}

/** The protocol node of a network disk, as QMP's BlockdevOptions. */
export function networkStorageNode(
  net: NetworkDiskSource,
  nodeName: string,
): Record<string, unknown> {
  switch (net.protocol) {
    case 'nbd':
      return {
        driver: 'nbd',
        'node-name': nodeName,
        server: { type: 'inet', host: net.host, port: String(net.port ?? NBD_DEFAULT_PORT) },
        export: net.name,
      };
    case 'nfs':
      if (net.port !== undefined) {
        throw new FerryError(
          'CONFIG_UNSUPPORTED',
          `NFS disk '${net.name}': QEMU's NFS driver asks the server's portmapper; a port cannot be given`,
        );
      }
      return {
        driver: 'nfs',
        'node-name': nodeName,
        server: { type: 'inet', host: net.host },
        path: net.name,
        ...numericId('user', net.identity?.user),
        ...numericId('group', net.identity?.group),
      };
  }
}

/** QEMU's NFS driver takes numeric ids; 'root' is the one name every host agrees on. */
function numericId(key: 'user' | 'group', name: string | undefined): Record<string, number> {
  if (name === undefined) return {};
  if (name === 'root') return { [key]: 0 };
  if (/^\d+$/.test(name)) return { [key]: Number(name) };
  throw new FerryError(
    'CONFIG_UNSUPPORTED',
    `NFS disk identity ${key} '${name}': give a numeric id (or root)`,
  );
}

/**
 * The protocol node of a disk (undefined for an empty cdrom), named `nodeName` (by default
 * the disk's storage node name).
 */
export function storageNode(
  disk: DiskDef,
  readOnly: boolean,
  nodeName = diskNodeNames(disk.target.dev).storage,
): Record<string, unknown> | undefined {
  const storage = nodeName;
  const cache = cacheFlags(disk.driver.cache);
  let node: Record<string, unknown>;
  switch (disk.type) {
    case 'file':
    case 'block':
      if (disk.source === undefined) return undefined;
      node = {
        driver: disk.type === 'file' ? 'file' : 'host_device',
        filename: disk.source,
        'node-name': storage,
      };
      if (disk.driver.io !== undefined) node['aio'] = disk.driver.io;
      break;
    case 'network':
      if (disk.network === undefined) return undefined;
      node = networkStorageNode(disk.network, storage);
      break;
    case 'volume':
      throw new FerryError(
        'INTERNAL_ERROR',
        `Disk '${disk.target.dev}': volume '${disk.volume?.volume ?? ''}' was not resolved`,
      );
  }
  node['cache'] = { direct: cache.direct, 'no-flush': cache.noFlush };
  node['read-only'] = readOnly;
  return node;
}

/** `-blockdev` arguments and the device's `drive=`/write-cache options of one disk. */
export function diskBackendArgs(disk: DiskDef): { args: string[]; deviceOpts: string } {
  const readOnly = disk.readonly || disk.device === 'cdrom';
  const storage = storageNode(disk, readOnly);
  if (storage === undefined) return { args: [], deviceOpts: '' };
  const names = diskNodeNames(disk.target.dev);
  const format = {
    'node-name': names.format,
    driver: disk.driver.type,
    file: names.storage,
    'read-only': readOnly,
  };
  const cache = cacheFlags(disk.driver.cache);
  let deviceOpts = `,drive=${names.format}`;
  if (disk.device === 'disk') deviceOpts += `,write-cache=${cache.writeCache ? 'on' : 'off'}`;
  if (disk.shareable) deviceOpts += ',share-rw=on';
  return {
    args: ['-blockdev', JSON.stringify(storage), '-blockdev', JSON.stringify(format)],
    deviceOpts,
  };
}
