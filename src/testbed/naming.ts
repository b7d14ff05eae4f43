/**
 * The testbed's names and addresses, decided before anything is made so that bad input
 * changes nothing: testbed and host names, network namespace names, addresses, and whether
 * this process can make namespaces at all.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { FerryError } from '../common/errors.js';

/** Subnets are 10.77.N.0/24 with N from 1 to MAX_SUBNET (one per testbed). */
export const MAX_SUBNET = 254;
/** Host i (from 1) is .(HOST_OFFSET + i); addresses stay below .255. */
export const HOST_OFFSET = 10;
export const MAX_HOSTS = 100;
export const DEFAULT_HOSTS = 2;
/** The switch's network namespace is `<testbed>-switch`, so no host may be called that. */
const RESERVED_HOST_NAMES = new Set(['switch', 'localhost']);
const HOST_NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;
const TESTBED_NAME_RE = /^[a-z][a-z0-9-]{0,23}$/;

export const NOT_ROOT_NOTICE =
  'testbed: not running as root; falling back to loopback hosts (no namespaces, no sshd, no link control)';

/** How the testbed isolates its hosts; only root can make namespaces, bridges and mounts. */
export interface Isolation {
  namespaces: boolean;
  /** Printed once on stderr when the testbed falls back to loopback hosts. */
  notice: string | undefined;
}

export function decideIsolation(uid: number): Isolation {
  return uid === 0
    ? { namespaces: true, notice: undefined }
    : { namespaces: false, notice: NOT_ROOT_NOTICE };
}

/** A fresh testbed name, `ftb` + 8 hex digits: two test files may run testbeds at once. */
export function randomTestbedName(): string {
  return `ftb${randomBytes(4).toString('hex')}`;
}

export function checkTestbedName(name: string): string {
  if (!TESTBED_NAME_RE.test(name) || name.includes('--'))
    throw new FerryError(
      'INVALID_ARG',
      `Invalid testbed name '${name}': use 1-24 lower-case letters, digits and single dashes, starting with a letter`,
    );
  return name;
}

/** The host names for the options: `names` as given, or h1…hN. */
export function hostNames(opts: {
  hosts?: number | undefined;
  names?: readonly string[] | undefined;
}): string[] {
  const count = opts.hosts ?? opts.names?.length ?? DEFAULT_HOSTS;
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS)
    throw new FerryError('INVALID_ARG', `Invalid host count ${count}: expected 1 to ${MAX_HOSTS}`);
  if (opts.names === undefined) return Array.from({ length: count }, (_, i) => `h${i + 1}`);
  if (opts.names.length !== count)
    throw new FerryError(
      'INVALID_ARG',
      `${opts.names.length} host names given for ${count} hosts: give one name per host`,
    );
  const seen = new Set<string>();
  for (const name of opts.names) {
    if (!HOST_NAME_RE.test(name) || name.endsWith('-'))
      throw new FerryError(
        'INVALID_ARG',
        `Invalid host name '${name}': use a lower-case letter, then letters, digits or dashes (at most 31)`,
      );
    if (RESERVED_HOST_NAMES.has(name))
      throw new FerryError('INVALID_ARG', `Host name '${name}' is reserved by the testbed`);
    if (seen.has(name)) throw new FerryError('INVALID_ARG', `Host name '${name}' is given twice`);
    seen.add(name);
  }
  return [...opts.names];
}

/**
 * Host `index` (from 1) of the testbed on subnet `subnet`: 10.77.N.(10+i) inside the testbed's
 * own namespaces; loopback hosts get 127.77.N.(10+i), so that two loopback testbeds running at
 * once do not both want port 16509 on one address.
 */
export function hostAddress(namespaces: boolean, subnet: number, index: number): string {
  return `${namespaces ? '10' : '127'}.77.${subnet}.${HOST_OFFSET + index}`;
}

export const SUBNET_PREFIX_LENGTH = 24;

export function netnsName(testbed: string, host: string): string {
  return `${testbed}-${host}`;
}

export function switchNetnsName(testbed: string): string {
  return `${testbed}-switch`;
}

/** The switch-side end of host `index`'s veth (interface names have at most 15 characters). */
export function switchInterface(index: number): string {
  return `veth${index}`;
}

/** The host-side end of its veth, inside the host's namespace. */
export const HOST_INTERFACE = 'eth0';
export const BRIDGE = 'br0';
