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
   * How long the destination watches a migrated guest after the switch-over before calling
   * the migration a success (ms); 0 turns the watch off. See src/migration/guest-watch.ts.
   */
  migrationWatchMs: number;
}

type Key =
  | 'state_dir'
  | 'run_dir'
  | 'socket'
  | 'qemu_binary'
  | 'kvm_device'
  | 'log_level'
  | 'max_frame_bytes'
  | 'migration_watch_ms';
const STRING_KEYS = new Set<Key>([
  'state_dir',
  'run_dir',
  'socket',
  'qemu_binary',
  'kvm_device',
  'log_level',
]);
const NUMBER_KEYS = new Set<Key>(['max_frame_bytes', 'migration_watch_ms']);
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const DEFAULT_CONFIG_FILE = '/etc/ferry/ferryd.conf';
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
    if (STRING_KEYS.has(key)) {
      if (m[2] === undefined)
        throw new FerryError('INVALID_ARG', `Setting '${key}' at ${where} must be a quoted string`);
      out[key] = m[2].replace(/\\(.)/g, '$1');
    } else {
      if (m[3] === undefined)
        throw new FerryError('INVALID_ARG', `Setting '${key}' at ${where} must be a number`);
      out[key] = Number(m[3]);
    }
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
    stateDir: flags.stateDir ?? str('state_dir') ?? d.stateDir,
    runDir,
    socket: flags.socket ?? str('socket') ?? join(runDir, 'ferry-sock'),
    qemuBinary: str('qemu_binary') ?? 'qemu-system-x86_64',
    kvmDevice: str('kvm_device') ?? '/dev/kvm',
    logLevel: logLevel as DaemonConfig['logLevel'],
    maxFrameBytes,
    migrationWatchMs,
  };
}
