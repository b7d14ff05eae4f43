/**
 * Parses <devices>: disks, interfaces, serial ports, consoles, graphics and host devices.
 * Other devices (controllers, memballoon, …) are kept verbatim in document order.
 * @module
 */
import type { Element } from '@xmldom/xmldom';
import { FerryError } from '../../common/errors.js';
import type { CharDevDef, DevicesDef, GraphicsDef, InterfaceDef, PanicDef } from '../def.js';
import {
  ElementReader,
  Extras,
  boolValue,
  enumValue,
  intValue,
  once,
  unmodelledOf,
} from './reader.js';
import { parseDisk, required } from './parse-disk.js';

const LIBVIRT_NET_TYPES = ['ethernet', 'vhostuser', 'server', 'client', 'mcast', 'internal'];
const LIBVIRT_NET_TYPES_MORE = ['direct', 'udp', 'vdpa', 'null', 'vds'];
const LIBVIRT_CHR_TYPES = ['vc', 'dev', 'pipe', 'stdio', 'udp', 'tcp', 'spicevmc', 'spiceport'];
const LIBVIRT_CHR_TYPES_MORE = ['nmdm', 'qemu-vdagent', 'dbus'];
const LIBVIRT_GRAPHICS = ['sdl', 'rdp', 'desktop', 'spice', 'egl-headless', 'dbus'];
const LIBVIRT_PANIC_MODELS = ['pseries', 'hyperv', 's390', 'pvpanic'];
const MAC_RE =
  /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i;

/** Canonical form of a MAC address (lower case, two digits an octet), or undefined. */
export function normaliseMac(text: string): string | undefined {
  const m = MAC_RE.exec(text.trim());
  return m
    ?.slice(1)
    .map((o) => o.toLowerCase().padStart(2, '0'))
    .join(':');
}

/**
 * Parses the children of <devices>. Attributes of <devices> itself and of <emulator> are
 * recorded in the domain's extras. Interfaces without a MAC get one from `generateMac`.
 */
export function parseDevices(
  r: ElementReader,
  domainExtras: Extras,
  generateMac: () => string,
): DevicesDef {
  const devices: DevicesDef = {
    disks: [],
    interfaces: [],
    serials: [],
    consoles: [],
    graphics: [],
    hostdevs: [],
    panics: [],
    extra: [],
  };
  const seen = new Set<string>();
  for (const el of r.children()) {
    const child = new ElementReader(el, r.ctx);
    switch (el.nodeName) {
      case 'emulator':
        once(seen, el, 'devices');
        devices.emulator = child.text().trim();
        domainExtras.attrs('devices/emulator', child);
        break;
      case 'disk':
        devices.disks.push(parseDisk(child));
        break;
      case 'interface':
        // An SR-IOV VF is a host device in an interface's clothes: kept, never run here.
        if (child.attr('type') === 'hostdev')
          devices.hostdevs.push({ raw: r.ctx.raw(el), element: 'interface' });
        else devices.interfaces.push(parseInterface(child));
        break;
      case 'serial':
        devices.serials.push(parseCharDev(child, 'Serial'));
        break;
      case 'console':
        devices.consoles.push(parseCharDev(child, 'Console'));
        break;
      case 'graphics':
        devices.graphics.push(parseGraphics(child));
        break;
      case 'hostdev':
        devices.hostdevs.push({ raw: r.ctx.raw(el) });
        break;
      case 'panic':
        devices.panics.push(parsePanic(child));
        break;
      default:
        r.ctx.keep(el, 'devices', devices.extra);
    }
  }
  assignMacs(devices.interfaces, generateMac);
  return devices;
}

/** Gives each interface without a MAC a fresh one that no other interface uses. */
function assignMacs(nics: InterfaceDef[], generateMac: () => string): void {
  const used = new Set(nics.map((n) => n.mac));
  for (const nic of nics) {
    if (nic.mac !== undefined) continue;
    for (let attempt = 0; ; attempt++) {
      if (attempt === 100) throw new FerryError('INTERNAL_ERROR', 'Cannot generate a unique MAC');
      const generated = generateMac();
      const mac = normaliseMac(generated);
      if (mac === undefined) {
        throw new FerryError('INTERNAL_ERROR', `Generated MAC '${generated}' is invalid`);
      }
      if (used.has(mac)) continue;
      nic.mac = mac;
      used.add(mac);
      break;
    }
  }
}

function parseInterface(r: ElementReader): InterfaceDef {
  const extras = new Extras();
  const typeAttr = required(r.attr('type'), 'Missing type attribute in <interface>');
  const type = enumValue(
    typeAttr,
    ['user', 'network', 'bridge'],
    [...LIBVIRT_NET_TYPES, ...LIBVIRT_NET_TYPES_MORE],
    'Interface type',
  );
  extras.attrs('', r);
  const nic: InterfaceDef = { type, extra: [] };
  const seen = new Set<string>();
  for (const el of r.children()) {
    const child = new ElementReader(el, r.ctx);
    switch (el.nodeName) {
      case 'mac': {
        once(seen, el, 'interface');
        const address = required(child.attr('address'), 'Missing address attribute in <mac>');
        const mac = normaliseMac(address);
        if (mac === undefined)
          throw new FerryError('XML_ERROR', `Invalid MAC address '${address}'`);
        nic.mac = mac;
        extras.leaf('mac', child);
        break;
      }
      case 'source': {
        once(seen, el, 'interface');
        // user networking has no source; network and bridge name theirs in a like-named attribute.
        const source = type === 'user' ? undefined : child.attr(type);
        if (source !== undefined) nic.source = source;
        extras.leaf('source', child);
        break;
      }
      case 'model': {
        once(seen, el, 'interface');
        const model = required(child.attr('type'), 'Missing type attribute in interface <model>');
        nic.model = model;
        extras.leaf('model', child);
        break;
      }
      default:
        r.ctx.keep(el, 'interface', nic.extra);
    }
  }
  if (type !== 'user' && nic.source === undefined) {
    throw new FerryError(
      'XML_ERROR',
      `Missing <source ${type}='…'/> in <interface type='${type}'>`,
    );
  }
  return { ...nic, ...unmodelledOf(extras) };
}

function parseCharDev(r: ElementReader, what: 'Serial' | 'Console'): CharDevDef {
  const tag = r.name;
  const extras = new Extras();
  const type = enumValue(
    r.attr('type') ?? 'pty',
    ['pty', 'file', 'unix', 'null'],
    [...LIBVIRT_CHR_TYPES, ...LIBVIRT_CHR_TYPES_MORE],
    `${what} type`,
  );
  extras.attrs('', r);
  const chr: CharDevDef = { type, extra: [] };
  const seen = new Set<string>();
  for (const el of r.children()) {
    const child = new ElementReader(el, r.ctx);
    switch (el.nodeName) {
      case 'source': {
        once(seen, el, tag);
        const path = child.attr('path');
        if (path !== undefined) chr.path = path;
        const append = child.attr('append');
        if (append !== undefined) chr.append = boolValue(append, 'on', `<${tag}> source append`);
        const mode = child.attr('mode');
        if (mode !== undefined)
          chr.mode = enumValue(mode, ['bind', 'connect'], [], `${what} source mode`);
        extras.leaf('source', child);
        break;
      }
      case 'target': {
        once(seen, el, tag);
        const targetType = child.attr('type');
        if (targetType !== undefined) chr.targetType = targetType;
        const port = child.attr('port');
        if (port !== undefined) chr.targetPort = intValue(port, `<${tag}> target port`, 0, 65535);
        extras.leaf('target', child);
        break;
      }
      default:
        r.ctx.keep(el, tag, chr.extra);
    }
  }
  if ((type === 'file' || type === 'unix') && chr.path === undefined) {
    throw new FerryError('XML_ERROR', `Missing source path in <${tag} type='${type}'>`);
  }
  return { ...chr, ...unmodelledOf(extras) };
}

function parseGraphics(r: ElementReader): GraphicsDef {
  const extras = new Extras();
  const typeAttr = required(r.attr('type'), 'Missing type attribute in <graphics>');
  const type = enumValue(typeAttr, ['vnc', 'none'], LIBVIRT_GRAPHICS, 'Graphics type');
  const g: GraphicsDef = { type, extra: [] };
  const port = r.attr('port');
  if (port !== undefined) g.port = intValue(port, '<graphics> port', -1, 65535);
  const autoport = r.attr('autoport');
  if (autoport !== undefined) g.autoport = boolValue(autoport, 'yes', '<graphics> autoport');
  const listen = r.attr('listen');
  if (listen !== undefined) g.listen = listen;
  extras.attrs('', r);
  for (const el of r.children()) {
    r.ctx.keep(el, 'graphics', g.extra);
    // libvirt writes the address both as an attribute and as a <listen> child.
    const address = listenAddress(el);
    if (g.listen === undefined && address !== undefined) g.listen = address;
  }
  return { ...g, ...unmodelledOf(extras) };
}

function listenAddress(el: Element): string | undefined {
  if (el.nodeName !== 'listen' || el.getAttribute('type') !== 'address') return undefined;
  return el.getAttributeNode('address')?.value;
}

function parsePanic(r: ElementReader): PanicDef {
  const extras = new Extras();
  // libvirt's default model on x86 is isa.
  const model = enumValue(r.attr('model') ?? 'isa', ['isa'], LIBVIRT_PANIC_MODELS, 'Panic model');
  extras.attrs('', r);
  const panic: PanicDef = { model, extra: [] };
  const seen = new Set<string>();
  for (const el of r.children()) {
    if (el.nodeName !== 'address') {
      r.ctx.keep(el, 'panic', panic.extra);
      continue;
    }
    once(seen, el, 'panic');
    const child = new ElementReader(el, r.ctx);
    const type = child.attr('type');
    if (type !== 'isa') {
      throw new FerryError(
        'XML_ERROR',
        `Invalid <panic model='isa'> address type '${type ?? ''}' (expected isa)`,
      );
    }
    const iobase = child.attr('iobase');
    if (iobase !== undefined) panic.iobase = ioPort(iobase, '<panic> address iobase');
    extras.leaf('address', child);
  }
  return { ...panic, ...unmodelledOf(extras) };
}

/** An I/O port written the libvirt way: '0x505' or decimal. */
function ioPort(text: string, what: string): number {
  const value = text.trim();
  const n = /^0x[0-9a-f]{1,4}$/i.test(value) ? parseInt(value.slice(2), 16) : Number.NaN;
  return Number.isNaN(n) ? intValue(value, what, 0, 0xffff) : n;
}
