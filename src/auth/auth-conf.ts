/**
 * Client credentials the libvirt way: an auth.conf (GKeyFile syntax, libvirt's format) that
 * maps hosts to credential sets, so `ferry` and a migrating ferryd log in without a prompt.
 *
 * ```ini
 * [credentials-admin]
 * authname=fred
 * password=123456
 *
 * # [auth-ferry-HOST] works too
 * [auth-libvirt-host1.example.com]
 * credentials=admin
 *
 * # every other host
 * [auth-libvirt-default]
 * credentials=admin
 * ```
 *
 * The file used is the first of: the URI's `authfile=PATH`, $FERRY_AUTH_FILE,
 * $XDG_CONFIG_HOME/ferry/auth.conf (~/.config/ferry/auth.conf), /etc/ferry/auth.conf.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';

export const SYSTEM_AUTH_FILE = '/etc/ferry/auth.conf';

/** One `[credentials-NAME]` set; either part may be missing (then it is asked for). */
export interface CredentialSet {
  readonly authname: string | undefined;
  readonly password: string | undefined;
}

/** A parsed auth.conf: credential sets by NAME, and `auth-SERVICE-HOST` → NAME. */
export interface AuthConf {
  readonly file: string;
  readonly credentials: ReadonlyMap<string, CredentialSet>;
  readonly hosts: ReadonlyMap<string, string>;
}

/** What a login needs; the user may come from the URI and the password from a prompt. */
export interface PartialCredentials {
  user: string | undefined;
  password: string | undefined;
}

// GKeyFile's escapes in values.
const ESCAPES: Record<string, string> = { s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** Parses auth.conf text; a malformed line or a dangling `credentials=` names FILE:LINE. */
export function parseAuthConf(text: string, file: string): AuthConf {
  const groups = new Map<string, Map<string, string>>();
  const groupLine = new Map<string, number>();
  let current: Map<string, string> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const group = /^\[([^\][]+)\]$/.exec(line);
    if (group !== null) {
      const name = group[1] ?? '';
      current = groups.get(name) ?? new Map<string, string>();
      groups.set(name, current);
      groupLine.set(name, i + 1);
      return;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(raw.replace(/^\s+|\r$/g, ''));
    if (kv === null || current === undefined)
      throw new FerryError(
        'INVALID_ARG',
        `Malformed line at ${where}: expected [group] or key=value inside a group`,
      );
    const value = (kv[2] ?? '').replace(/\\(.)/g, (all, c: string) => ESCAPES[c] ?? all);
    current.set(kv[1] ?? '', value);
  });

  const credentials = new Map<string, CredentialSet>();
  const hosts = new Map<string, string>();
  for (const [name, keys] of groups) {
    if (name.startsWith('credentials-')) {
      credentials.set(name.slice('credentials-'.length), {
        authname: keys.get('authname'),
        password: keys.get('password'),
      });
    }
  }
  for (const [name, keys] of groups) {
    if (!/^auth-(libvirt|ferry)-./.test(name)) continue;
    const set = keys.get('credentials');
    const where = `${file}:${groupLine.get(name) ?? 0}`;
    if (set === undefined)
      throw new FerryError('INVALID_ARG', `Group [${name}] at ${where} has no credentials= key`);
    if (!credentials.has(set))
      throw new FerryError(
        'INVALID_ARG',
        `Group [${name}] at ${where} names credentials '${set}', but there is no [credentials-${set}]`,
      );
    hosts.set(name, set);
  }
  return { file, credentials, hosts };
}

/**
 * The credentials auth.conf gives for `host` (and `user`, when the URI names one): the first
 * of [auth-ferry-HOST], [auth-libvirt-HOST], [auth-ferry-default], [auth-libvirt-default]
 * whose set has no authname or the URI's user. Either part may be missing.
 */
export function credentialsFor(
  conf: AuthConf,
  host: string,
  user: string | undefined,
): PartialCredentials {
  const groups = [
    `auth-ferry-${host}`,
    `auth-libvirt-${host}`,
    'auth-ferry-default',
    'auth-libvirt-default',
  ];
  for (const group of groups) {
    const name = conf.hosts.get(group);
    const set = name === undefined ? undefined : conf.credentials.get(name);
    if (set === undefined) continue;
    if (user !== undefined && set.authname !== undefined && set.authname !== user) continue;
    return { user: user ?? set.authname, password: set.password };
  }
  return { user, password: undefined };
}

export interface AuthFileOptions {
  /** The URI's `authfile` parameter. */
  authfile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/**
 * The auth.conf to use: `authfile` or $FERRY_AUTH_FILE as given (it must exist), else the
 * per-user file, else the system one, if they exist; undefined when there is none.
 */
export function authFilePath(options: AuthFileOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const named = options.authfile ?? env['FERRY_AUTH_FILE'];
  if (named !== undefined && named !== '') return named;
  const xdg = env['XDG_CONFIG_HOME'];
  const configHome =
    xdg !== undefined && xdg !== '' ? xdg : join(options.home ?? homedir(), '.config');
  for (const candidate of [join(configHome, 'ferry', 'auth.conf'), SYSTEM_AUTH_FILE]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Reads and parses an auth.conf; an unreadable file is a SYSTEM_ERROR naming it. */
export function readAuthConf(file: string): AuthConf {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FerryError('SYSTEM_ERROR', `Cannot read auth file '${file}': ${describeErrno(err)}`, {
      cause: err,
    });
  }
  return parseAuthConf(text, file);
}

/**
 * What the auth files say about logging in to `host` as `user` (the URI's user, if any):
 * nothing at all when there is no auth file.
 */
export function lookupCredentials(
  host: string,
  user: string | undefined,
  options: AuthFileOptions = {},
): PartialCredentials & { file: string | undefined } {
  const file = authFilePath(options);
  if (file === undefined) return { user, password: undefined, file };
  return { ...credentialsFor(readAuthConf(file), host, user), file };
}
