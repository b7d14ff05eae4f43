/**
 * A storage pool's definition, as libvirt's pool XML holds it, and the rules a definition must
 * keep before ferryd accepts it.
 * @module
 */
import { isAbsolute } from 'node:path';
import { FerryError } from '../common/errors.js';
import { checkLocation, type NetfsLocation } from './netfs.js';

/** Pool types ferryd parses: dir and netfs are libvirt's; nbd is Ferry's own. */
export const POOL_TYPES = ['dir', 'netfs', 'nbd'] as const;
export type PoolType = (typeof POOL_TYPES)[number];

/** NBD's IANA port, where qemu-nbd and qemu-storage-daemon listen unless told otherwise. */
export const DEFAULT_NBD_PORT = 10809;

export interface PoolHost {
  name: string;
  port?: number;
}

/** `<source>`: what the pool is made from (a server, a path on it). */
export interface PoolSource {
  host?: PoolHost;
  /** `<dir path=…>`: the exported directory (netfs). */
  dir?: string;
  /** `<device path=…>`: kept so a definition round-trips; no backend uses it yet. */
  device?: string;
  /** `<name>`: kept so a definition round-trips; no backend uses it yet. */
  name?: string;
  /** `<format type=…>`: netfs's protocol ('auto', 'nfs'). */
  format?: string;
}

export interface PoolDef {
  type: PoolType;
  name: string;
  uuid: string;
  source: PoolSource;
  /** `<target><path>`: the directory volumes live in (dir, netfs); nbd pools have none. */
  target?: string;
}

function invalid(message: string): FerryError {
  return new FerryError('XML_ERROR', `XML error: ${message}`);
}

/** The type named, or virsh's complaint about it. */
export function poolTypeOf(text: string): PoolType {
  const type = POOL_TYPES.find((t) => t === text);
  if (type === undefined)
    throw invalid(`Invalid value for attribute 'type' in element 'pool': '${text}'.`);
  return type;
}

/**
 * Throws INVALID_ARG unless `name` can be a pool's or a volume's name: a file name in a
 * directory ferryd owns (definitions) or the pool's target (volumes).
 */
export function checkObjectName(name: string, what: 'pool' | 'volume'): void {
  if (name === '' || name.length > 255)
    throw new FerryError(
      'INVALID_ARG',
      `invalid argument: ${what} name must be 1 to 255 characters`,
    );
  if (name.includes('/'))
    throw new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: ${what} name '${name}' cannot contain '/'`,
    );
  if (name.startsWith('.'))
    throw new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: ${what} name '${name}' cannot start with '.'`,
    );
  // A control character in a name would garble every table and log line that shows it.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name))
    throw new FerryError(
      'INVALID_ARG',
      `invalid argument: ${what} name '${name}' contains a control character`,
    );
}

/**
 * `HOST`, `HOST:PORT` or `[V6ADDR]:PORT` as given to --source-host. The port is left out when
 * not given, so the definition says only what the user said.
 */
export function parseHostPort(text: string): PoolHost {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  const m = bracketed ?? plain;
  if (m === null || text.trim() !== text)
    throw new FerryError('INVALID_ARG', `invalid argument: malformed source host '${text}'`);
  const [, name = '', portText] = m;
  if (portText === undefined) return { name };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new FerryError('INVALID_ARG', `invalid argument: port '${portText}' is out of range`);
  return { name, port };
}

/** Throws XML_ERROR naming what `def` lacks for its type. */
export function checkPoolDef(def: PoolDef): void {
  checkObjectName(def.name, 'pool');
  if (def.type === 'dir' || def.type === 'netfs') {
    if (def.target === undefined || def.target === '')
      throw invalid('missing storage pool target path');
    if (!isAbsolute(def.target))
      throw invalid(`storage pool target path '${def.target}' must be absolute`);
  }
  if (def.type === 'netfs') netfsLocation(def);
  if (def.type === 'nbd') {
    if (def.source.host === undefined) throw invalid('missing storage pool source host name');
    if (def.target !== undefined)
      throw invalid('an nbd pool has no target path: its volumes are the server’s exports');
  }
}

/** Where an nbd pool's server listens. */
export function nbdAddress(def: PoolDef): { host: string; port: number } {
  const host = def.source.host;
  if (host === undefined) throw invalid('missing storage pool source host name');
  return { host: host.name, port: host.port ?? DEFAULT_NBD_PORT };
}

/**
 * Where a netfs pool's volumes are: its server and exported directory, as libnfs and QEMU's nfs
 * driver open them (a host name or address, an absolute path, no port: QEMU 7.2 asks the
 * server's portmapper).
 */
export function netfsLocation(def: PoolDef): NetfsLocation {
  const { host, dir, format } = def.source;
  if (host === undefined) throw invalid('missing storage pool source host name');
  if (dir === undefined) throw invalid('missing storage pool source path');
  if (host.port !== undefined)
    throw new FerryError(
      'CONFIG_UNSUPPORTED',
      `unsupported configuration: netfs pool source host '${host.name}' has port ${host.port}; QEMU's NFS driver asks the server's portmapper, so no port can be given`,
    );
  if (format !== undefined && format !== 'auto' && format !== 'nfs')
    throw new FerryError(
      'CONFIG_UNSUPPORTED',
      `unsupported configuration: netfs pool source format '${format}'; Ferry reaches netfs pools over NFS only (auto or nfs)`,
    );
  return checkLocation({ host: host.name, exportPath: dir });
}
