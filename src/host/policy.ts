/**
 * What a domain definition may ask of this host. ferryd runs QEMU as root, so a definition is
 * a request to open files and pass arguments with root's rights; whoever may define domains
 * (a root user here, an authenticated remote user, a migration peer) must not reach files the
 * host did not set aside for guests, nor smuggle QEMU options in. Checked when a definition is
 * defined, created, started or received by migration, so a policy tightened later also holds
 * for definitions written before.
 * @module
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { FerryError } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import { parseXmlDocument } from '../domain/xml/syntax.js';

/** libvirt's namespace for `<qemu:commandline>` passthrough. */
export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

/** Where images and kernels live by convention when the host config says nothing. */
export const DEFAULT_ALLOWED_PATHS: readonly string[] = [
  '/var/lib/ferry/images',
  '/var/lib/libvirt/images',
  '/var/lib/libvirt/boot',
];

export interface HostPolicy {
  /** Directories whose files definitions may use (images, kernels, serial logs, sockets). */
  allowedPaths: readonly string[];
  /** Pass `<qemu:commandline>` arguments to QEMU (ferryd.conf allow_qemu_commandline = 1). */
  qemuCommandline: boolean;
  /** Where the policy is set, for error messages (the config file, or "the defaults"). */
  origin: string;
}

/** One host path a definition names, and what names it ("disk 'vda'", "kernel"). */
interface PathUse {
  what: string;
  path: string;
}

function pathUses(def: DomainDef): PathUse[] {
  const uses: PathUse[] = [];
  if (def.os.kernel !== undefined) uses.push({ what: 'kernel', path: def.os.kernel });
  if (def.os.initrd !== undefined) uses.push({ what: 'initrd', path: def.os.initrd });
  for (const disk of def.devices.disks)
    if (disk.source !== undefined)
      uses.push({ what: `disk '${disk.target.dev}'`, path: disk.source });
  const chardevs = [
    ...def.devices.serials.map((d) => ({ d, kind: 'serial' })),
    ...def.devices.consoles.map((d) => ({ d, kind: 'console' })),
  ];
  for (const { d, kind } of chardevs)
    if (d.path !== undefined) uses.push({ what: `${kind} ${d.type} device`, path: d.path });
  return uses;
}

/**
 * The path with symbolic links resolved as far as it exists: a link inside an allowed
 * directory that points outside it is outside. The part that does not exist yet (a serial
 * log QEMU will create) is appended as written, after `..` has been resolved.
 */
function realPath(path: string): string {
  let existing = normalize(path);
  let rest = '';
  for (;;) {
    try {
      return join(realpathSync(existing), rest);
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return normalize(path);
      rest = join(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)), rest);
      existing = parent;
    }
  }
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The directories as the check sees them: absolute, normalised, links resolved. */
function resolvedDirs(dirs: readonly string[]): string[] {
  return dirs.map((d) => realPath(resolve(d)));
}

function denied(message: string): FerryError {
  return new FerryError('ACCESS_DENIED', `access denied: ${message}`);
}

/** The `<qemu:commandline>` (any prefix bound to QEMU_NS) elements of a definition. */
function qemuCommandlines(def: DomainDef): string[] {
  const prefixes = Object.entries(def.namespaces ?? {})
    .filter(([, uri]) => uri === QEMU_NS)
    .map(([prefix]) => prefix);
  return def.extra.filter((raw) =>
    prefixes.some((p) => raw.startsWith(p === '' ? '<commandline' : `<${p}:commandline`)),
  );
}

/**
 * Whether guests may use files under `path` on this host: it is absolute and lies inside one
 * of `allowedPaths` once `..` and symbolic links are resolved (e.g. a storage pool's target).
 */
export function pathAllowed(path: string, policy: HostPolicy): boolean {
  if (!isAbsolute(path)) return false;
  const real = realPath(path);
  return resolvedDirs(policy.allowedPaths).some((dir) => inside(real, dir));
}

/**
 * Throws ACCESS_DENIED naming the first thing the definition may not do on this host: a path
 * outside `allowedPaths` (or not absolute), or `<qemu:commandline>` when passthrough is off.
 */
export function checkHostPolicy(def: DomainDef, policy: HostPolicy): void {
  if (!policy.qemuCommandline && qemuCommandlines(def).length > 0)
    throw denied(
      `<qemu:commandline> passthrough is disabled on this host (allow_qemu_commandline in ${policy.origin})`,
    );
  const allowed = resolvedDirs(policy.allowedPaths);
  for (const use of pathUses(def)) {
    if (!isAbsolute(use.path)) throw denied(`path '${use.path}' of ${use.what} is not absolute`);
    const real = realPath(use.path);
    if (!allowed.some((dir) => inside(real, dir)))
      throw denied(
        `path '${use.path}' of ${use.what} is outside the directories this host allows for guests (allowed_paths in ${policy.origin}: ${policy.allowedPaths.join(', ') || 'none'})`,
      );
  }
}

/**
 * The arguments of `<qemu:commandline><qemu:arg value='…'/>…` in order, for a host that allows
 * passthrough. `<qemu:env>` is not supported (QEMU's environment is ferryd's).
 */
export function qemuCommandlineArgs(def: DomainDef): string[] {
  const args: string[] = [];
  const ns = Object.entries(def.namespaces ?? {})
    .map(([p, uri]) => (p === '' ? ` xmlns='${uri}'` : ` xmlns:${p}='${uri}'`))
    .join('');
  for (const raw of qemuCommandlines(def)) {
    // Re-declare the namespaces the fragment relies on, so it parses on its own.
    const text = raw.replace(/^<([^\s/>]+)/, `<$1${ns}`);
    const root = parseXmlDocument(text).documentElement;
    if (root === null) continue;
    for (let n = root.firstChild; n !== null; n = n.nextSibling) {
      if (n.nodeType !== 1) continue;
      const el = n as unknown as { namespaceURI: string | null; localName: string | null };
      const value = (n as unknown as { getAttribute(name: string): string | null }).getAttribute(
        'value',
      );
      if (el.namespaceURI === QEMU_NS && el.localName === 'arg' && value !== null) args.push(value);
      else if (el.namespaceURI === QEMU_NS && el.localName === 'env')
        throw new FerryError(
          'CONFIG_UNSUPPORTED',
          'unsupported configuration: <qemu:env> is not supported; QEMU runs with ferryd’s environment',
        );
    }
  }
  return args;
}
