/**
 * ferryd's configuration: a libvirtd.conf-style file (`key = "value"`, `key = 123`, `#`
 * comments) merged under the command-line flags. Unknown keys and malformed lines are
 * errors naming the line, so a typo never silently changes nothing.
 * @module
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { DEFAULT_TCP_PORT } from '../common/uri.js';
import { formatHostPort } from '../rpc/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';

export interface DaemonConfig {
  configFile: string | undefined;
  stateDir: string;
  runDir: string;
  socket: string;
  qemuBinary: string;
  kvmDevice: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Largest RPC frame accepted, in bytes. */
  maxFrameBytes: number;
  /**
   * Where to accept TCP clients (listen_tcp = 1), or undefined when ferryd listens on its
   * unix socket only. Port 0 binds any free port (logged in the 'ferryd ready' line).
   */
  tcp: { address: string; port: number } | undefined;
  /**
   * Keepalive on the connection a migration's source keeps to the destination ferryd (libvirt's
   * p2p keepalive), so a destination that hangs ends the job; undefined when
   * `keepalive_interval = -1`. Clients are not pinged: the CLI cannot answer while it waits
   * for `$EDITOR` (ferry edit), and a unix socket reports a client that died by itself.
   */
  keepalive: KeepaliveOptions | undefined;
  /**
   * How long the destination watches a migrated guest after the switch-over before calling
   * the migration a success (ms); 0 turns the watch off. See src/migration/guest-watch.ts.
   */
  migrationWatchMs: number;
  /**
   * postcopy_auto_resume: a post-copy migration whose stream paused (the link broke) is
   * resumed by ferryd itself, retrying with backoff (true, the default); false waits for
   * `ferry migrate --postcopy-resume`.
   */
  postcopyAutoResume: boolean;
}

type Key =
  | 'state_dir'
  | 'run_dir'
  | 'socket'
  | 'qemu_binary'
  | 'kvm_device'
  | 'log_level'
  | 'max_frame_bytes'
  | 'listen_tcp'
  | 'listen_addr'
  | 'tcp_port'
  | 'auth_tcp'
  | 'keepalive_interval'
  | 'keepalive_count'
  | 'migration_watch_ms'
  | 'postcopy_auto_resume';
const STRING_KEYS = new Set<Key>([
  'state_dir',
  'run_dir',
  'socket',
  'qemu_binary',
  'kvm_device',
  'log_level',
  'listen_addr',
  'auth_tcp',
]);
const NUMBER_KEYS = new Set<Key>([
  'max_frame_bytes',
  'listen_tcp',
  'tcp_port',
  'keepalive_interval',
  'keepalive_count',
  'migration_watch_ms',
  'postcopy_auto_resume',
]);
/** Numbers that libvirtd.conf writes quoted (`tcp_port = "16509"`), so a copied line works. */
const QUOTED_NUMBER_KEYS = new Set<Key>(['tcp_port']);
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** libvirt's auth_tcp values; only "none" works in this version (see loadConfig). */
const AUTH_TCP = ['none', 'sasl'] as const;

/** Value checks done while the line is known; each completes "Setting 'KEY' at FILE:N …". */
const CHECKS: Partial<Record<Key, (v: string | number) => string | undefined>> = {
  listen_tcp: (v) => (v === 0 || v === 1 ? undefined : `must be 0 or 1, not ${v}`),
  postcopy_auto_resume: (v) => (v === 0 || v === 1 ? undefined : `must be 0 or 1, not ${v}`),
  tcp_port: (v) =>
    typeof v === 'number' && v >= 0 && v <= 65535
      ? undefined
      : `must be a port number from 0 to 65535, not ${v}`,
  listen_addr: (v) => (v === '' ? 'must not be empty' : undefined),
  auth_tcp: (v) =>
    (AUTH_TCP as readonly (string | number)[]).includes(v)
      ? undefined
      : `must be "none" or "sasl", not "${v}"`,
};

export const DEFAULT_CONFIG_FILE = '/etc/ferry/ferryd.conf';
/** libvirtd.conf's defaults: a ping after 5 s of silence, the peer dead after 5 unanswered. */
export const DEFAULT_KEEPALIVE_INTERVAL_S = 5;
export const DEFAULT_KEEPALIVE_COUNT = 5;
/**
 * Measured under TCG: a guest corrupted by a pre-copy migration (QEMU 7.2, test guest without
 * pti=on) panicked 60-62 ms after the destination resumed it, every time; an idle guest's vCPU
 * never stayed quiet longer than 512 ms. One second covers both with room to spare, and a
 * migration waits no longer than that for its verdict (src/migration/guest-watch.ts).
 */
export const DEFAULT_MIGRATION_WATCH_MS = 1000;
/** Ten minutes: a longer watch would hold the migration job for no benefit. */
const MAX_MIGRATION_WATCH_MS = 600_000;

/** Parses the text of a ferryd.conf. */
export function parseConfigText(text: string, file: string): Partial<Record<Key, string | number>> {
  const out: Partial<Record<Key, string | number>> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const m = /^([a-z_][a-z0-9_]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+))\s*(?:#.*)?$/.exec(line);
    if (m === null)
      throw new FerryError(
        'INVALID_ARG',
        `Malformed setting at ${where}: expected key = "value" or key = number`,
      );
    const key = m[1] as Key;
    if (!STRING_KEYS.has(key) && !NUMBER_KEYS.has(key))
      throw new FerryError('INVALID_ARG', `Unknown setting '${m[1]}' at ${where}`);
    let value: string | number;
    if (STRING_KEYS.has(key)) {
      if (m[2] === undefined)
        throw new FerryError('INVALID_ARG', `Setting '${key}' at ${where} must be a quoted string`);
      value = m[2].replace(/\\(.)/g, '$1');
    } else if (m[3] !== undefined) {
      value = Number(m[3]);
    } else if (QUOTED_NUMBER_KEYS.has(key) && m[2] !== undefined && /^\d+$/.test(m[2])) {
      value = Number(m[2]);
    } else {
      throw new FerryError('INVALID_ARG', `Setting '${key}' at ${where} must be a number`);
    }
    const problem = CHECKS[key]?.(value);
    if (problem !== undefined)
      throw new FerryError('INVALID_ARG', `Setting '${key}' at ${where} ${problem}`);
    out[key] = value;
  });
  return out;
}

export interface ConfigFlags {
  config?: string | undefined;
  stateDir?: string | undefined;
  runDir?: string | undefined;
  socket?: string | undefined;
}

/** Default directories: system-wide as root, per user otherwise (libvirt's session mode). */
function defaults(): { stateDir: string; runDir: string } {
  if (process.getuid?.() === 0) return { stateDir: '/var/lib/ferry', runDir: '/run/ferry' };
  const runtime = process.env['XDG_RUNTIME_DIR'];
  return {
    stateDir: join(homedir(), '.local', 'share', 'ferry'),
    runDir:
      runtime !== undefined && runtime !== ''
        ? join(runtime, 'ferry')
        : `/tmp/ferry-${process.getuid?.() ?? 0}`,
  };
}

/** Resolves the configuration: flags over the file over defaults. */
export function loadConfig(flags: ConfigFlags): DaemonConfig {
  let fromFile: Partial<Record<Key, string | number>> = {};
  const file = flags.config ?? DEFAULT_CONFIG_FILE;
  let read = false;
  try {
    fromFile = parseConfigText(readFileSync(file, 'utf8'), file);
    read = true;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing) throw err;
    // Only a config file the user named must exist; the default one is optional.
    if (flags.config !== undefined)
      throw new FerryError(
        'INVALID_ARG',
        `Cannot read config file '${file}': No such file or directory`,
      );
  }
  const str = (k: Key): string | undefined => fromFile[k] as string | undefined;
  const d = defaults();
  const runDir = flags.runDir ?? str('run_dir') ?? d.runDir;
  const logLevel = str('log_level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new FerryError(
      'INVALID_ARG',
      `Invalid log_level '${logLevel}': expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const maxFrameBytes = (fromFile.max_frame_bytes as number | undefined) ?? 16 * 1024 * 1024;
  if (maxFrameBytes < 4096)
    throw new FerryError(
      'INVALID_ARG',
      `max_frame_bytes ${maxFrameBytes} is too small (minimum 4096)`,
    );
  const migrationWatchMs =
    (fromFile.migration_watch_ms as number | undefined) ?? DEFAULT_MIGRATION_WATCH_MS;
  if (migrationWatchMs < 0 || migrationWatchMs > MAX_MIGRATION_WATCH_MS)
    throw new FerryError(
      'INVALID_ARG',
      `migration_watch_ms ${migrationWatchMs} is out of range (0 = off, at most ${MAX_MIGRATION_WATCH_MS})`,
    );
  return {
    configFile: read ? file : undefined,
    tcp: tcpListen(fromFile, file),
    stateDir: flags.stateDir ?? str('state_dir') ?? d.stateDir,
    runDir,
    socket: flags.socket ?? str('socket') ?? join(runDir, 'ferry-sock'),
    qemuBinary: str('qemu_binary') ?? 'qemu-system-x86_64',
    kvmDevice: str('kvm_device') ?? '/dev/kvm',
    logLevel: logLevel as DaemonConfig['logLevel'],
    maxFrameBytes,
    keepalive: keepaliveFrom(fromFile),
    migrationWatchMs,
    postcopyAutoResume: fromFile.postcopy_auto_resume !== 0,
  };
}

/**
 * The TCP listener asked for, if any. Authentication comes later, so only an explicit
 * auth_tcp = "none" may open one: the libvirt default ("sasl") must not silently become
 * "anyone who can reach the port".
 */
function tcpListen(
  fromFile: Partial<Record<Key, string | number>>,
  file: string,
): DaemonConfig['tcp'] {
  if (fromFile.listen_tcp !== 1) return undefined;
  const address = (fromFile.listen_addr as string | undefined) ?? '127.0.0.1';
  const port = (fromFile.tcp_port as number | undefined) ?? DEFAULT_TCP_PORT;
  const auth = (fromFile.auth_tcp as string | undefined) ?? 'sasl';
  if (auth !== 'none') {
    throw new FerryError(
      'NO_SUPPORT',
      `listen_tcp = 1 with auth_tcp = "${auth}" is not supported yet (authentication arrives with the remote transports issue); set auth_tcp = "none" in ${file} to accept unauthenticated TCP clients on ${formatHostPort(address, port)}`,
    );
  }
  return { address, port };
}

/** keepalive_interval (seconds, -1 = off) and keepalive_count (unanswered pings tolerated). */
function keepaliveFrom(
  fromFile: Partial<Record<Key, string | number>>,
): KeepaliveOptions | undefined {
  const interval =
    (fromFile.keepalive_interval as number | undefined) ?? DEFAULT_KEEPALIVE_INTERVAL_S;
  const count = (fromFile.keepalive_count as number | undefined) ?? DEFAULT_KEEPALIVE_COUNT;
  if (interval === -1) return undefined;
  if (interval < 1)
    throw new FerryError(
      'INVALID_ARG',
      `Invalid keepalive_interval ${interval}: expected seconds (at least 1), or -1 to turn keepalive off`,
    );
  if (count < 1)
    throw new FerryError('INVALID_ARG', `Invalid keepalive_count ${count}: expected at least 1`);
  return { intervalMs: interval * 1000, count };
}
