/**
 * netfs pools reached through libnfs, with no mount: this kernel may have no NFS client, so
 * QEMU opens the images itself (its `nfs` block driver, Debian's qemu-block-extra), and so do
 * these functions: `nfs-ls` (libnfs-utils) lists the directory and measures the file system,
 * `qemu-img` over nfs:// URLs reads and creates images, and a small NFSv3 client removes them.
 * Plain functions over `{host, exportPath}`; the pool framework (src/storage) calls them.
 * @module
 */
import { execFile } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { FerryError } from '../common/errors.js';
import { nfs3Remove, Nfs3StatusError } from './nfs3-client.js';

/** Where a netfs pool is: an NFS server and a directory it exports (or one below an export). */
export interface NetfsLocation {
  /** Host name, IPv4 or IPv6 address of the NFS server. */
  host: string;
  /** Absolute path on the server, e.g. '/srv/nfs'. */
  exportPath: string;
}

/** A volume as QEMU opens it: the `nfs` member of storage's VolumeSource (src/storage/resolve.ts). */
export interface NfsVolumeSource {
  type: 'network';
  protocol: 'nfs';
  host: string;
  /** The image's path on the server, e.g. '/srv/nfs/vm.qcow2'. */
  name: string;
}

export type NetfsImageFormat = 'raw' | 'qcow2';

/** What vol-list / vol-info show of a netfs volume. */
export interface NetfsVolume {
  name: string;
  /** Unique: the volume's nfs:// URL. */
  key: string;
  /** vol-path: the nfs:// URL QEMU and qemu-img open. */
  path: string;
  type: 'network';
  /** qemu-img's name for the format it finds (raw and qcow2, or another QEMU knows). */
  format: string;
  /** Guest-visible size, bytes. */
  capacity: number;
  /** Bytes the image takes up on the server. */
  allocation: number;
  backing?: { path: string; format: string | undefined };
}

/** pool-info's sizes, from the server's file system. */
export interface NetfsSpace {
  capacity: number;
  allocation: number;
  available: number;
}

export interface NetfsCreateRequest {
  name: string;
  capacity: number;
  format: NetfsImageFormat;
  /** A volume this one is a qcow2 overlay of (its nfs:// URL, or a path QEMU can open). */
  backing?: { path: string; format: NetfsImageFormat };
}

/** The longest a tool may take; libnfs waits long for a host that does not answer. */
const TOOL_TIMEOUT_MS = 60_000;

/**
 * A volume name: one path component that needs no escaping in a URL or on a command line, and
 * is neither hidden nor taken for an option.
 */
const VOLUME_NAME = /^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,254}$/;

export const isVolumeName = (name: string): boolean => VOLUME_NAME.test(name);

export function checkVolumeName(name: string): string {
  if (!VOLUME_NAME.test(name))
    throw new FerryError(
      'INVALID_ARG',
      `Invalid volume name '${name}': use letters, digits, '.', '_', '+' and '-' (not first '.' or '-')`,
    );
  return name;
}

/** Checks a location: a host name or address, and an absolute, normalised path. */
export function checkLocation(loc: NetfsLocation): NetfsLocation {
  const bare = loc.host.replace(/^\[(.*)\]$/, '$1');
  if (!isIPv6(bare) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(bare))
    throw new FerryError('INVALID_ARG', `Invalid NFS server host '${loc.host}'`);
  const p = loc.exportPath;
  if (
    !/^(\/[A-Za-z0-9._+-]+)+$/.test(p) ||
    p.split('/').some((c) => c === '.' || c === '..') ||
    p.length > 1024
  )
    throw new FerryError(
      'INVALID_ARG',
      `Invalid NFS export path '${p}': an absolute path of letters, digits, '.', '_', '+' and '-'`,
    );
  return { host: bare, exportPath: p };
}

const urlHost = (host: string): string => (isIPv6(host) ? `[${host}]` : host);

/** nfs://HOST/EXPORT[/VOLUME], the URL form libnfs and QEMU's nfs driver take. */
export function nfsUrl(loc: NetfsLocation, volume?: string): string {
  const { host, exportPath } = checkLocation(loc);
  const tail = volume === undefined ? '' : `/${checkVolumeName(volume)}`;
  return `nfs://${urlHost(host)}${exportPath}${tail}`;
}

/** Splits nfs://HOST/PATH (no port, user or query: QEMU 7.2's driver ignores or refuses them). */
export function parseNfsUrl(url: string): { host: string; path: string } {
  const m = /^nfs:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(\/[^?#]*)$/.exec(url);
  if (m?.[1] === undefined || m[2] === undefined)
    throw new FerryError(
      'INVALID_ARG',
      `Invalid NFS URL '${url}': expected nfs://HOST/PATH without port or options`,
    );
  const { host, exportPath } = checkLocation({ host: m[1], exportPath: m[2] });
  return { host, path: exportPath };
}

/** Where QEMU finds a volume's bytes. */
export function volumeSource(loc: NetfsLocation, name: string): NfsVolumeSource {
  const { host, exportPath } = checkLocation(loc);
  return { type: 'network', protocol: 'nfs', host, name: `${exportPath}/${checkVolumeName(name)}` };
}

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool; a missing binary is NO_SUPPORT naming its Debian package. */
function runTool(cmd: string, args: readonly string[], pkg: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: TOOL_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new FerryError('NO_SUPPORT', `${cmd} is not installed (Debian package ${pkg})`));
          return;
        }
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr: err?.killed === true ? `${stderr}\n(timed out)` : stderr });
      },
    );
  });
}

const lastLine = (text: string): string => text.trim().split('\n').pop() ?? '';

/** One entry of `nfs-ls` output: `-rw-------  1     0     0      1900544 t.qcow2`. */
export interface NfsLsEntry {
  kind: 'file' | 'directory' | 'other';
  size: number;
  name: string;
}

export function parseNfsLs(text: string): NfsLsEntry[] {
  const out: NfsLsEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^([-dlcbps])[-rwxsStT]{9}\s+\d+\s+\d+\s+\d+\s+(\d+) (.+)$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) continue;
    const kind = m[1] === '-' ? 'file' : m[1] === 'd' ? 'directory' : 'other';
    out.push({ kind, size: Number(m[2]), name: m[3] });
  }
  return out;
}

/** `nfs-ls -s`'s last line: `245343109120 of 270553174016 bytes free.` */
export function parseNfsLsSummary(text: string): NetfsSpace {
  const m = /^(\d+) of (\d+) bytes free\.$/m.exec(text);
  if (m?.[1] === undefined || m[2] === undefined)
    throw new FerryError('SYSTEM_ERROR', `Unexpected nfs-ls summary: ${lastLine(text)}`);
  const available = Number(m[1]);
  const capacity = Number(m[2]);
  return { capacity, allocation: capacity - available, available };
}

async function nfsLs(loc: NetfsLocation, summary: boolean): Promise<string> {
  const url = nfsUrl(loc);
  const r = await runTool('nfs-ls', [...(summary ? ['-s'] : []), url], 'libnfs-utils');
  if (r.code !== 0) {
    // `nfs-ls -s` says nothing when no NFS server answers (e.g. connection refused).
    const why = lastLine(r.stderr || r.stdout) || `no answer (nfs-ls exit code ${r.code})`;
    throw new FerryError('OPERATION_FAILED', `cannot list ${url}: ${why}`);
  }
  return r.stdout;
}

/** Parses `qemu-img info --output=json` of a volume. */
export function volumeFromInfo(loc: NetfsLocation, name: string, json: string): NetfsVolume {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const num = (k: string): number => (typeof raw[k] === 'number' ? raw[k] : 0);
  const str = (k: string): string | undefined => (typeof raw[k] === 'string' ? raw[k] : undefined);
  const url = nfsUrl(loc, name);
  const backingPath = str('full-backing-filename') ?? str('backing-filename');
  return {
    name,
    key: url,
    path: url,
    type: 'network',
    format: str('format') ?? 'raw',
    capacity: num('virtual-size'),
    allocation: num('actual-size'),
    ...(backingPath === undefined
      ? {}
      : { backing: { path: backingPath, format: str('backing-filename-format') } }),
  };
}

/** One volume, or undefined when the server has no such file. */
export async function volumeInfo(
  loc: NetfsLocation,
  name: string,
): Promise<NetfsVolume | undefined> {
  const url = nfsUrl(loc, name);
  // -U: a running guest may have the image open (the nfs driver takes no lock anyway).
  const r = await runTool('qemu-img', ['info', '-U', '--output=json', url], 'qemu-utils');
  if (r.code === 0) return volumeFromInfo(loc, name, r.stdout);
  if (r.stderr.includes('NFS3ERR_NOENT')) return undefined;
  const why = lastLine(r.stderr);
  const code = /Unknown protocol|Unknown driver 'nfs'/.test(why)
    ? 'NO_SUPPORT'
    : 'OPERATION_FAILED';
  throw new FerryError(
    code,
    `cannot read volume ${url}: ${why}${code === 'NO_SUPPORT' ? ' (install qemu-block-extra)' : ''}`,
  );
}

/** The pool's volumes: its regular files, each read by qemu-img; sorted by name. */
export async function listVolumes(loc: NetfsLocation): Promise<NetfsVolume[]> {
  const entries = parseNfsLs(await nfsLs(loc, false));
  const out: NetfsVolume[] = [];
  for (const e of entries) {
    if (e.kind !== 'file' || !VOLUME_NAME.test(e.name)) continue;
    // Removed between the listing and now: not a volume any more.
    const vol = await volumeInfo(loc, e.name);
    if (vol !== undefined) out.push(vol);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** pool-info: the server's file system as seen through the export. */
export async function poolSpace(loc: NetfsLocation): Promise<NetfsSpace> {
  return parseNfsLsSummary(await nfsLs(loc, true));
}

/**
 * vol-create-as: `qemu-img create` over nfs://. An existing volume of that name is refused
 * (checked first: qemu-img would overwrite it).
 */
export async function createVolume(
  loc: NetfsLocation,
  req: NetfsCreateRequest,
): Promise<NetfsVolume> {
  const url = nfsUrl(loc, req.name);
  if (!Number.isSafeInteger(req.capacity) || req.capacity <= 0)
    throw new FerryError('INVALID_ARG', `Invalid volume capacity ${String(req.capacity)}`);
  if ((await volumeInfo(loc, req.name)) !== undefined)
    throw new FerryError('OPERATION_FAILED', `storage volume name '${req.name}' already in use`, {
      data: { exists: true },
    });
  const backing =
    req.backing === undefined ? [] : ['-b', req.backing.path, '-F', req.backing.format];
  const args = ['create', '-q', '-f', req.format, ...backing, url, String(req.capacity)];
  const r = await runTool('qemu-img', args, 'qemu-utils');
  if (r.code !== 0)
    throw new FerryError('OPERATION_FAILED', `cannot create volume ${url}: ${lastLine(r.stderr)}`);
  const vol = await volumeInfo(loc, req.name);
  if (vol === undefined)
    throw new FerryError('OPERATION_FAILED', `volume ${url} is gone right after its creation`);
  return vol;
}

/** vol-delete: removes the image file from the server (NFSv3 REMOVE). */
export async function deleteVolume(loc: NetfsLocation, name: string): Promise<void> {
  const { host, exportPath } = checkLocation(loc);
  try {
    await nfs3Remove(host, exportPath, checkVolumeName(name));
  } catch (err) {
    // Only the REMOVE's: a missing pool directory fails the MNT (MNT3ERR_NOENT or _ACCES).
    if (err instanceof Nfs3StatusError && err.what.startsWith('remove ') && err.status === 2)
      throw new FerryError(
        'OPERATION_FAILED',
        `Storage volume not found: no storage vol with matching name '${name}'`,
        { cause: err, data: { notFound: true } },
      );
    throw err;
  }
}
