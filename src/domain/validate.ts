/**
 * Semantic checks of a domain definition, after libvirt's post-parse validation: the things a
 * well-formed definition can still get wrong. {@link parseDomainXml} runs them on every parse;
 * anything that builds a DomainDef another way should call {@link validateDomainDef} itself.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { DomainDef } from './def.js';

/** Longest accepted domain name (libvirt has no limit; file names and QEMU do). */
export const MAX_NAME_LENGTH = 200;
/** Upper bound of guest vCPUs: what QEMU's pc/q35 machines take without an x2APIC IOMMU. */
export const MAX_VCPUS = 255;
/** 16 TiB in KiB: far beyond any host Ferry runs on, so a larger value is a typo. */
export const MAX_MEMORY_KIB = 16 * 1024 ** 3;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

function invalid(message: string): never {
  throw new FerryError('XML_ERROR', message);
}

function checkName(name: string): void {
  if (name.trim() === '') invalid('Domain name must not be empty');
  if (name.length > MAX_NAME_LENGTH) {
    invalid(`Domain name is too long: ${name.length} characters, maximum is ${MAX_NAME_LENGTH}`);
  }
  // Names become file names (/etc/ferry/NAME.xml) and log lines, hence the restrictions.
  if (name.includes('/')) invalid(`Domain name '${name}' cannot contain '/'`);
  if (name.startsWith('.')) invalid(`Domain name '${name}' cannot start with '.'`);
  if (CONTROL_RE.test(name))
    invalid(`Domain name ${JSON.stringify(name)} contains control characters`);
  if (name.trim() !== name) invalid(`Domain name '${name}' has leading or trailing blanks`);
}

function checkMemory(def: DomainDef): void {
  if (!Number.isSafeInteger(def.memoryKiB) || def.memoryKiB <= 0) {
    invalid('Memory size must be greater than zero');
  }
  if (def.memoryKiB > MAX_MEMORY_KIB) {
    throw new FerryError(
      'CONFIG_UNSUPPORTED',
      `Memory size ${def.memoryKiB} KiB is absurd: maximum is 16 TiB (${MAX_MEMORY_KIB} KiB)`,
    );
  }
  if (!Number.isSafeInteger(def.currentMemoryKiB) || def.currentMemoryKiB <= 0) {
    invalid('Current memory size must be greater than zero');
  }
  if (def.currentMemoryKiB > def.memoryKiB) {
    invalid(
      `Current memory ${def.currentMemoryKiB} KiB exceeds maximum memory ${def.memoryKiB} KiB`,
    );
  }
}

function checkCpus(def: DomainDef): void {
  if (!Number.isSafeInteger(def.vcpus) || def.vcpus < 1) {
    invalid(`Invalid vCPU count ${def.vcpus}: must be at least 1`);
  }
  if (def.vcpus > MAX_VCPUS) {
    throw new FerryError(
      'CONFIG_UNSUPPORTED',
      `vCPU count ${def.vcpus} is not supported: maximum is ${MAX_VCPUS}`,
    );
  }
  const topo = def.cpu?.topology;
  if (topo !== undefined) {
    const total = topo.sockets * (topo.dies ?? 1) * topo.cores * topo.threads;
    if (total !== def.vcpus) {
      invalid(`CPU topology gives ${total} vCPUs but <vcpu> is ${def.vcpus}`);
    }
  }
}

function checkOs(def: DomainDef): void {
  if (def.os.kernel === undefined) {
    // QEMU only takes -initrd and -append together with -kernel.
    if (def.os.initrd !== undefined)
      invalid('An initrd needs a kernel: <os> has <initrd> but no <kernel>');
    if (def.os.cmdline !== undefined)
      invalid('A kernel command line needs a kernel: <os> has <cmdline> but no <kernel>');
  }
}

function checkDisks(def: DomainDef): void {
  const targets = new Set<string>();
  for (const disk of def.devices.disks) {
    const dev = disk.target.dev;
    if (!/^[a-z]+[0-9a-z]*$/.test(dev)) invalid(`Invalid disk target '${dev}'`);
    if (targets.has(dev)) invalid(`Duplicate disk target '${dev}'`);
    targets.add(dev);
    const located = disk.network !== undefined || disk.volume !== undefined;
    if (disk.device === 'disk' && !located && (disk.source === undefined || disk.source === '')) {
      invalid(`Disk '${dev}' has no source: only a cdrom may be empty`);
    }
    if (disk.device === 'cdrom' && disk.target.bus === 'virtio') {
      invalid(`Disk '${dev}': a cdrom cannot be on the virtio bus (use sata, ide or scsi)`);
    }
  }
}

function checkInterfaces(def: DomainDef): void {
  const macs = new Set<string>();
  for (const nic of def.devices.interfaces) {
    if (nic.mac === undefined) continue;
    if (!MAC_RE.test(nic.mac)) invalid(`Invalid MAC address '${nic.mac}'`);
    // The low bit of the first octet marks a multicast address, which no NIC may own.
    if (parseInt(nic.mac.slice(0, 2), 16) % 2 === 1) {
      invalid(`MAC address '${nic.mac}' is multicast: expected a unicast address`);
    }
    if (macs.has(nic.mac)) invalid(`Duplicate MAC address '${nic.mac}'`);
    macs.add(nic.mac);
  }
}

function checkCharDevs(def: DomainDef): void {
  const ports = new Set<number>();
  for (const serial of def.devices.serials) {
    if (serial.targetPort === undefined) continue;
    if (ports.has(serial.targetPort)) invalid(`Duplicate serial port ${serial.targetPort}`);
    ports.add(serial.targetPort);
  }
  for (const chr of [...def.devices.serials, ...def.devices.consoles]) {
    if ((chr.type === 'file' || chr.type === 'unix') && (chr.path ?? '') === '') {
      invalid(`A ${chr.type} character device needs a source path`);
    }
  }
}

function checkGraphics(def: DomainDef): void {
  for (const g of def.devices.graphics) {
    // QEMU takes a VNC display number, port - 5900; -1 means "pick one" as in libvirt.
    if (g.type === 'vnc' && g.port !== undefined && g.port !== -1 && g.port < 5900) {
      invalid(`VNC port ${g.port} is below 5900`);
    }
  }
}

function checkPanics(def: DomainDef): void {
  const { panics } = def.devices;
  // Two pvpanic devices would report the same panic twice, or fight over port 0x505.
  if (panics.length > 1) invalid(`A domain has at most one <panic> device, found ${panics.length}`);
  if (panics.length > 0 && def.ferry?.pvpanic === false) {
    invalid(
      "The definition has a <panic> device but its <ferry:watch pvpanic='off'/> metadata opts out of pvpanic",
    );
  }
}

/**
 * Checks a domain definition, throwing on the first problem.
 * @throws {FerryError} XML_ERROR with a one-line message naming the offending value, or
 *   CONFIG_UNSUPPORTED for sizes beyond what Ferry runs.
 */
export function validateDomainDef(def: DomainDef): void {
  checkName(def.name);
  if (!UUID_RE.test(def.uuid)) invalid(`Invalid UUID '${def.uuid}'`);
  if (def.title?.includes('\n')) invalid('Domain title cannot contain newlines');
  checkMemory(def);
  checkCpus(def);
  checkOs(def);
  checkDisks(def);
  checkInterfaces(def);
  checkCharDevs(def);
  checkGraphics(def);
  checkPanics(def);
}
