/**
 * ferryd's configuration: a libvirtd.conf-style file (`key = "value"`, `key = 123`,
 * `key = ["a", "b"]`, `#` comments; see config-syntax.ts) merged under the command-line
 * flags. Unknown keys and malformed lines are errors naming the line, so a typo never
 * silently changes nothing.
 * @module
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { DEFAULT_ALLOWED_PATHS, type HostPolicy } from '../host/index.js';
import { DEFAULT_MIGRATION_TLS_DIR } from '../migration/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';
import { parseConfSyntax, type ConfValue } from './config-syntax.js';
import {
  accountsFileOf,
  consoleListen,
  tcpListen,
  tlsListen,
  type ConsoleListen,
  type TcpListen,
  type TlsListen,
} from './config-listen.js';

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
   * Where to accept TCP clients (listen_tcp = 1) and whether they must log in (auth_tcp), or
   * undefined. Port 0 binds any free port (logged in the 'ferryd ready' line).
   */
  tcp: TcpListen | undefined;
  /** Where to accept TLS clients (listen_tls = 1), with the certificates and checks to use. */
  tls: TlsListen | undefined;
  /** The accounts file logins and console sign-ins are checked against (auth_users_file). */
  accountsFile: string;
  /** The web console's listener (console_enabled = 1), or undefined when it is off. */
  console: ConsoleListen | undefined;
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
  /** Certificates QEMU uses for `migrate --tls` (libvirt's qemu.conf key of the same name). */
  migrationTlsDir: string;
  /** What domain definitions may ask of this host (allowed_paths, allow_qemu_commandline). */
  policy: HostPolicy;
  /**
   * postcopy_auto_resume: a post-copy migration whose stream paused (the link broke) is
   * resumed by ferryd itself, retrying with backoff (true, the default); false waits for
   * `ferry migrate --postcopy-resume`.
   */
  postcopyAutoResume: boolean;
  /**
   * cpu_limit (a cpu_map model) and cpu_limit_features ('+feat' / '-feat'): the most this
   * host offers guests, as if its CPU were that model; undefined offers all QEMU can run.
   */
  cpuLimit: { model: string; features: string[] } | undefined;
  /** cpu_virttype: 'qemu' (TCG, default) or 'kvm', the accelerator CPU answers are for. */
  cpuVirtType: 'qemu' | 'kvm';
  /**
   * machine_types: globs of the machine types guests may use on this host ('pc-q35-*');
   * undefined = every type the QEMU binary offers. Checked at start and by the preflight.
   */
  machineTypes: readonly string[] | undefined;
  /**
   * host_memory_mib: the memory this host offers guests (MiB), for fleet plans and the
   * preflight's destination memory check; undefined offers MemTotal.
   */
  hostMemoryMiB: number | undefined;
}

/** Every ferryd.conf key and the type of value it takes. */
const KEY_TYPES = {
  state_dir: 'string',
  run_dir: 'string',
  socket: 'string',
  qemu_binary: 'string',
  kvm_device: 'string',
  log_level: 'string',
  max_frame_bytes: 'number',
  listen_tcp: 'number',
  listen_tls: 'number',
  listen_addr: 'string',
  // libvirtd.conf writes the ports quoted (`tcp_port = "16509"`), so a copied line works.
  tcp_port: 'quoted-number',
  tls_port: 'quoted-number',
  auth_tcp: 'string',
  auth_tls: 'string',
  auth_users_file: 'string',
  key_file: 'string',
  cert_file: 'string',
  ca_file: 'string',
  crl_file: 'string',
  tls_no_verify_certificate: 'number',
  tls_allowed_dn_list: 'list',
  keepalive_interval: 'number',
  keepalive_count: 'number',
  migration_watch_ms: 'number',
  migrate_tls_x509_cert_dir: 'string',
  allowed_paths: 'list',
  allow_qemu_commandline: 'number',
  postcopy_auto_resume: 'number',
  cpu_limit: 'string',
  cpu_limit_features: 'list',
  cpu_virttype: 'string',
  machine_types: 'list',
  host_memory_mib: 'number',
  console_enabled: 'number',
  console_listen_addr: 'string',
  console_port: 'quoted-number',
  console_tls: 'number',
  console_web_dir: 'string',
} as const;

export type Key = keyof typeof KEY_TYPES;
/** A setting's value as read: a string, a number or (tls_allowed_dn_list) a list of strings. */
export type Setting = string | number | readonly string[];
export type Settings = Partial<Record<Key, Setting>>;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** libvirt's auth_tcp / auth_tls values that Ferry implements. */
const AUTH_SCHEMES = ['none', 'sasl'] as const;

const zeroOrOne = (v: Setting): string | undefined =>
  v === 0 || v === 1 ? undefined : `must be 0 or 1, not ${String(v)}`;
const port = (v: Setting): string | undefined =>
  typeof v === 'number' && v >= 0 && v <= 65535
    ? undefined
    : `must be a port number from 0 to 65535, not ${String(v)}`;
const auth = (v: Setting): string | undefined =>
  (AUTH_SCHEMES as readonly Setting[]).includes(v)
    ? undefined
    : `must be "none" or "sasl", not "${String(v)}"`;
const notEmpty = (v: Setting): string | undefined => (v === '' ? 'must not be empty' : undefined);

/** Value checks done while the line is known; each completes "Setting 'KEY' at FILE:N …". */
const CHECKS: Partial<Record<Key, (v: Setting) => string | undefined>> = {
  listen_tcp: zeroOrOne,
  listen_tls: zeroOrOne,
  tls_no_verify_certificate: zeroOrOne,
  tcp_port: port,
  tls_port: port,
  listen_addr: notEmpty,
  auth_tcp: auth,
  auth_tls: auth,
  auth_users_file: notEmpty,
  key_file: notEmpty,
  cert_file: notEmpty,
  ca_file: notEmpty,
  crl_file: notEmpty,
  tls_allowed_dn_list: (v) =>
    Array.isArray(v) && v.length === 0
      ? 'must name at least one DN (leave the setting out to allow any certificate the CA signed)'
      : Array.isArray(v) && v.includes('')
        ? 'must not contain an empty DN'
        : undefined,
  allow_qemu_commandline: zeroOrOne,
  postcopy_auto_resume: zeroOrOne,
  console_enabled: zeroOrOne,
  console_tls: zeroOrOne,
  console_port: port,
  console_listen_addr: notEmpty,
  console_web_dir: (v) =>
    typeof v === 'string' && !v.startsWith('/') ? 'must be an absolute directory' : undefined,
  machine_types: (v) =>
    Array.isArray(v) && (v.length === 0 || v.includes(''))
      ? 'must list at least one machine type glob, like ["pc-q35-*"] (leave the setting out to allow every type)'
      : undefined,
  allowed_paths: (v) =>
    Array.isArray(v) && v.some((p: string) => !p.startsWith('/'))
      ? 'must list absolute directories'
      : undefined,
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

/** The value of `entry` as its key's type wants it; a mismatch names the line. */
function typed(key: Key, value: ConfValue, where: string): Setting {
  const type = KEY_TYPES[key];
  const wrong = (what: string): FerryError =>
    new FerryError('INVALID_ARG', `Setting '${key}' at ${where} must be ${what}`);
  switch (type) {
    case 'string':
      if (value.kind !== 'string') throw wrong('a quoted string');
      return value.text;
    case 'number':
    case 'quoted-number':
      if (value.kind === 'number') return value.n;
      if (type === 'quoted-number' && value.kind === 'string' && /^\d+$/.test(value.text))
        return Number(value.text);
      throw wrong('a number');
    case 'list':
      if (value.kind !== 'list' || value.items.some((i) => i.kind !== 'string'))
        throw wrong('a list of quoted strings, like ["a", "b"]');
      return value.items.map((i) => (i.kind === 'string' ? i.text : ''));
  }
}

/** Parses the text of a ferryd.conf. */
export function parseConfigText(text: string, file: string): Settings {
  const out: Settings = {};
  for (const { key, value, where } of parseConfSyntax(text, file)) {
    if (!Object.hasOwn(KEY_TYPES, key))
      throw new FerryError('INVALID_ARG', `Unknown setting '${key}' at ${where}`);
    const k = key as Key;
    const v = typed(k, value, where);
    const problem = CHECKS[k]?.(v);
    if (problem !== undefined)
      throw new FerryError('INVALID_ARG', `Setting '${k}' at ${where} ${problem}`);
    out[k] = v;
  }
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
  let fromFile: Settings = {};
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
    tcp: tcpListen(fromFile),
    tls: tlsListen(fromFile),
    accountsFile: accountsFileOf(fromFile),
    console: consoleListen(fromFile),
    stateDir: flags.stateDir ?? str('state_dir') ?? d.stateDir,
    runDir,
    socket: flags.socket ?? str('socket') ?? join(runDir, 'ferry-sock'),
    qemuBinary: str('qemu_binary') ?? 'qemu-system-x86_64',
    kvmDevice: str('kvm_device') ?? '/dev/kvm',
    logLevel: logLevel as DaemonConfig['logLevel'],
    maxFrameBytes,
    keepalive: keepaliveFrom(fromFile),
    migrationWatchMs,
    migrationTlsDir: str('migrate_tls_x509_cert_dir') ?? DEFAULT_MIGRATION_TLS_DIR,
    postcopyAutoResume: fromFile.postcopy_auto_resume !== 0,
    cpuLimit: cpuLimitFrom(fromFile),
    cpuVirtType: cpuVirtTypeFrom(fromFile),
    machineTypes: fromFile.machine_types as readonly string[] | undefined,
    hostMemoryMiB: hostMemoryFrom(fromFile),
    policy: {
      allowedPaths: (fromFile.allowed_paths as readonly string[] | undefined) ?? [
        ...DEFAULT_ALLOWED_PATHS,
      ],
      qemuCommandline: fromFile.allow_qemu_commandline === 1,
      origin: read ? file : 'the defaults (no config file)',
    },
  };
}

/** The most host_memory_mib may say: 16 TiB, beyond any host this runs on. */
export const MAX_HOST_MEMORY_MIB = 16 * 1024 * 1024;

/** host_memory_mib: a whole number of MiB, at least 64, at most {@link MAX_HOST_MEMORY_MIB}. */
function hostMemoryFrom(fromFile: Settings): number | undefined {
  const mib = fromFile.host_memory_mib as number | undefined;
  if (mib === undefined) return undefined;
  if (!Number.isInteger(mib) || mib < 64 || mib > MAX_HOST_MEMORY_MIB)
    throw new FerryError(
      'INVALID_ARG',
      `host_memory_mib ${mib} is out of range (a whole number of MiB, 64 to ${MAX_HOST_MEMORY_MIB})`,
    );
  return mib;
}

/** keepalive_interval (seconds, -1 = off) and keepalive_count (unanswered pings tolerated). */
function keepaliveFrom(fromFile: Settings): KeepaliveOptions | undefined {
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

/** cpu_limit and cpu_limit_features; the model and features are checked against cpu_map later. */
function cpuLimitFrom(fromFile: Settings): DaemonConfig['cpuLimit'] {
  const model = fromFile.cpu_limit as string | undefined;
  const features = (fromFile.cpu_limit_features as readonly string[] | undefined) ?? [];
  if (model === undefined || model === '') {
    if (features.length > 0)
      throw new FerryError('INVALID_ARG', 'cpu_limit_features needs cpu_limit (a CPU model name)');
    return undefined;
  }
  return { model, features: [...features] };
}

function cpuVirtTypeFrom(fromFile: Settings): 'qemu' | 'kvm' {
  const v = (fromFile.cpu_virttype as string | undefined) ?? 'qemu';
  if (v !== 'qemu' && v !== 'kvm')
    throw new FerryError('INVALID_ARG', `Invalid cpu_virttype '${v}': expected qemu or kvm`);
  return v;
}
