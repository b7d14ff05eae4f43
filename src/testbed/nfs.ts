/**
 * A userspace NFS server on one testbed host (the "shared storage host"): NFS-Ganesha with its
 * VFS backend exporting one directory over NFSv3 and v4, plus rpcbind, which QEMU's libnfs
 * driver needs (it finds the MOUNT and NFS ports through the portmapper). Both run in a mount
 * namespace of their own inside the host, with a private /run: rpcbind's socket
 * (/run/rpcbind.sock) is a fixed path and would otherwise be shared with every other testbed.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { spawnDaemon, waitForLogLine } from './ferryd.js';
import { endProcesses, processRecord, type ProcessRecord } from './processes.js';

export const GANESHA = '/usr/bin/ganesha.nfsd';
export const RPCBIND = '/usr/sbin/rpcbind';
/** Where a testbed's NFS server exports by default (inside the storage host). */
export const DEFAULT_EXPORT_DIR = '/srv/nfs';
/** The server's files inside the host: its own /var/lib/ferry, which outlives /run's tmpfs. */
const SERVER_DIR_IN_HOST = '/var/lib/ferry/nfs-server';
/** Ganesha's line once it serves. */
const READY_LINE = 'NFS SERVER INITIALIZED';

export interface NfsServerOptions {
  /** The host that runs the server. */
  host: string;
  /** The exported directory, as the host (and nfs:// URLs) name it (default /srv/nfs). */
  exportDir?: string;
}

/** An absolute, normalised path with no characters that ganesha.conf would need to quote. */
export function checkExportDir(dir: string): string {
  if (!/^(\/[A-Za-z0-9._-]+)+$/.test(dir) || dir.split('/').some((c) => c === '.' || c === '..'))
    throw new FerryError(
      'INVALID_ARG',
      `NFS export directory '${dir}' must be an absolute path of letters, digits, '.', '_' and '-'`,
    );
  if (/^\/(proc|sys|dev|run|tmp)(\/|$)/.test(dir) || dir === '/')
    throw new FerryError(
      'INVALID_ARG',
      `NFS export directory '${dir}' must not be under /proc, /sys, /dev, /run or /tmp`,
    );
  return dir;
}

/** The NFS server's host and export directory, checked before anything is made. */
export function checkNfsOptions(
  nfs: NfsServerOptions,
  names: readonly string[],
  namespaces: boolean,
): { host: string; exportDir: string } {
  if (!names.includes(nfs.host))
    throw new FerryError(
      'INVALID_ARG',
      `NFS server host '${nfs.host}' is not a testbed host (hosts: ${names.join(', ')})`,
    );
  if (!namespaces)
    throw new FerryError(
      'NO_SUPPORT',
      'An NFS server needs namespace hosts (a testbed made as root): it listens on port 111 and 2049 of its host',
    );
  for (const bin of [GANESHA, RPCBIND])
    if (!existsSync(bin))
      throw new FerryError(
        'NO_SUPPORT',
        `${bin} is missing; install nfs-ganesha nfs-ganesha-vfs rpcbind (scripts/setup.sh does)`,
      );
  return { host: nfs.host, exportDir: checkExportDir(nfs.exportDir ?? DEFAULT_EXPORT_DIR) };
}

/** Real paths (outside the host) of the server's files; `stateDir` is the host's /var/lib/ferry. */
export function nfsServerFiles(hostDir: string, stateDir: string) {
  const dir = join(stateDir, 'nfs-server');
  return {
    /** Seen from outside; inside the host it is SERVER_DIR_IN_HOST. */
    dir,
    config: join(dir, 'ganesha.conf'),
    log: join(dir, 'nfs.log'),
    rpcbindPid: join(dir, 'rpcbind.pid'),
    /** The exported bytes: bind-mounted on the export directory inside the host. */
    exportSource: join(hostDir, 'nfs-export'),
  };
}

/**
 * ganesha.conf: one VFS export of `exportDir` (same path and NFSv4 pseudo path), read-write,
 * root not squashed (QEMU and qemu-img run as root), TCP only, no grace period (a fresh
 * server has no clients to wait for), no Kerberos and no lock manager.
 */
export function ganeshaConfigText(exportDir: string): string {
  return `# NFS-Ganesha of a Ferry testbed host (src/testbed/nfs.ts)
NFS_CORE_PARAM {
	Protocols = 3, 4;
	Enable_NLM = false;
	Enable_RQUOTA = false;
}
NFS_KRB5 {
	Active_krb5 = false;
}
NFSV4 {
	RecoveryBackend = fs;
	RecoveryRoot = ${SERVER_DIR_IN_HOST}/recovery;
	Graceless = true;
	Grace_Period = 0;
}
EXPORT {
	Export_Id = 1;
	Path = ${exportDir};
	Pseudo = ${exportDir};
	Access_Type = RW;
	Squash = No_Root_Squash;
	SecType = sys;
	Protocols = 3, 4;
	Transports = TCP;
	FSAL {
		Name = VFS;
	}
}
`;
}

/**
 * Run by `unshare -m` inside the host: a private tmpfs on /run for rpcbind's socket and
 * ganesha's pid file, rpcbind in the background (its PID to a file, so the testbed can end
 * it), and once its socket is there (ganesha registers with it at start), ganesha in its
 * place, in the foreground, logging to stderr's file.
 */
const SERVE_SCRIPT = `set -e
mount -t tmpfs -o mode=0755 ferry-nfs-run /run
mkdir -p /run/rpcbind /run/ganesha "$1/recovery"
chown _rpc /run/rpcbind 2>/dev/null || true
${RPCBIND} -f &
echo $! > "$1/rpcbind.pid"
i=0
while [ ! -S /run/rpcbind.sock ]; do
  i=$((i + 1)); [ $i -lt 200 ] || { echo "rpcbind did not start" >&2; exit 1; }
  sleep 0.05
done
exec ${GANESHA} -F -L "$1/nfs.log" -f "$1/ganesha.conf" -p /run/ganesha/ganesha.pid -N NIV_EVENT`;

/** The command (after the host's nsenter prefix) that runs the server. */
export function nfsServerArgv(): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    SERVE_SCRIPT,
    'ferry-nfs',
    SERVER_DIR_IN_HOST,
  ];
}

/** The server's processes, as testbed.json records them. */
export interface NfsServerRecord {
  exportDir: string;
  ganesha?: ProcessRecord | undefined;
  rpcbind?: ProcessRecord | undefined;
}

/** Writes the server's configuration (before the host's namespaces exist is fine). */
export function writeNfsServerFiles(hostDir: string, stateDir: string, exportDir: string): void {
  const f = nfsServerFiles(hostDir, stateDir);
  mkdirSync(f.dir, { recursive: true, mode: 0o755 });
  mkdirSync(f.exportSource, { recursive: true, mode: 0o755 });
  writeFileSync(f.config, ganeshaConfigText(exportDir), { mode: 0o644 });
}

/**
 * Starts the server with the host's `prefix` (nsenter …) and waits until ganesha serves.
 * `onStarted` is called with the record as soon as each process exists, so a failure half-way
 * leaves nothing `down` cannot end.
 */
export async function startNfsServer(
  host: string,
  prefix: readonly string[],
  files: ReturnType<typeof nfsServerFiles>,
  onStarted: (rec: Omit<NfsServerRecord, 'exportDir'>) => void,
): Promise<void> {
  const ganesha = spawnDaemon([...prefix, ...nfsServerArgv()], files.log);
  onStarted({ ganesha });
  try {
    await waitForLogLine(`NFS server of ${host}`, ganesha, files.log, 0, READY_LINE);
  } finally {
    const rpcbind = readRpcbindRecord(files.rpcbindPid);
    onStarted({ ganesha, ...(rpcbind === undefined ? {} : { rpcbind }) });
  }
}

function readRpcbindRecord(pidFile: string): ProcessRecord | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? processRecord(pid) : undefined;
}

/** Ends ganesha first (it unregisters from rpcbind), then rpcbind. */
export async function stopNfsServer(rec: NfsServerRecord): Promise<void> {
  if (rec.ganesha !== undefined) await endProcesses([rec.ganesha], { graceMs: 15_000 });
  if (rec.rpcbind !== undefined) await endProcesses([rec.rpcbind]);
}
