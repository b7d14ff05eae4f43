/**
 * Parses libvirt domain XML into a {@link DomainDef}, the way libvirt's virDomainDefParse does
 * for the subset Ferry models, filling libvirt's defaults. Whatever is not modelled is kept
 * verbatim (see {@link ParseResult.warnings} for what was kept).
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { FerryError } from '../../common/errors.js';
import type {
  BootDevice,
  ClockDef,
  CpuDef,
  CrashAction,
  DomainDef,
  FeatureDef,
  LifecycleAction,
  OsDef,
  ParseResult,
} from '../def.js';
import { validateDomainDef } from '../validate.js';
import { readFerrySettings } from './ferry-metadata.js';
import { parseDevices } from './parse-devices.js';
import { attrsOf, declaredPrefix, serialiseChildren } from './raw.js';
import {
  ElementReader,
  Extras,
  ParseContext,
  enumValue,
  intValue,
  once,
  unmodelledOf,
} from './reader.js';
import { parseXmlDocument } from './syntax.js';
import { memoryToKiB } from './units.js';

/** Options of {@link parseDomainXml}; the generators make tests deterministic. */
export interface ParseOptions {
  /** Makes the UUID of a domain whose XML has none (default: crypto.randomUUID). */
  generateUuid?: () => string;
  /** Makes the MAC of an interface whose XML has none (default: random 52:54:00:xx:xx:xx). */
  generateMac?: () => string;
}

const LIFECYCLE: readonly LifecycleAction[] = ['destroy', 'restart', 'preserve', 'rename-restart'];
const CRASH: readonly CrashAction[] = [...LIFECYCLE, 'coredump-destroy', 'coredump-restart'];
const BOOT: readonly BootDevice[] = ['hd', 'cdrom', 'network', 'fd'];
const LIBVIRT_DOMAIN_TYPES = ['xen', 'lxc', 'test', 'vmware', 'hyperv', 'vbox', 'openvz'];
const LIBVIRT_DOMAIN_TYPES_MORE = ['uml', 'phyp', 'vz', 'bhyve', 'kqemu', 'qemu', 'kvm'];
const TOP_LEVEL = [
  'name',
  'uuid',
  'title',
  'description',
  'memory',
  'currentMemory',
  'vcpu',
  'os',
  'features',
  'cpu',
  'clock',
  'on_poweroff',
  'on_reboot',
  'on_crash',
  'devices',
];
const CLOCK_OFFSETS = ['utc', 'localtime', 'timezone', 'variable', 'absolute'];

/** Accepts 8-4-4-4-12 hex or 32 bare hex digits, any case (libvirt accepts both). */
const UUID_RE = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;

/** Canonical lower-case form of a UUID, or undefined when it is not one. */
export function normaliseUuid(text: string): string | undefined {
  const m = UUID_RE.exec(text.trim());
  return m === null ? undefined : m.slice(1).join('-').toLowerCase();
}

/**
 * Parses and validates libvirt domain XML.
 * @throws {XmlSyntaxError} when the text is not well-formed XML (with line and column).
 * @throws {FerryError} XML_ERROR for invalid content, CONFIG_UNSUPPORTED for libvirt features
 *   Ferry cannot run, or whatever {@link validateDomainDef} rejects.
 */
export function parseDomainXml(text: string, opts: ParseOptions = {}): ParseResult {
  const doc = parseXmlDocument(text);
  const root = doc.documentElement;
  if (root === null) throw new FerryError('XML_ERROR', 'Expected root element <domain>');
  if (root.nodeName !== 'domain') {
    throw new FerryError('XML_ERROR', `Expected root element <domain>, found <${root.nodeName}>`);
  }
  const namespaces: Record<string, string> = {};
  for (const [name, value] of attrsOf(root)) {
    const prefix = declaredPrefix(name);
    if (prefix !== undefined) namespaces[prefix] = value;
  }
  const ctx = new ParseContext(namespaces);
  const def = parseDomain(new ElementReader(root, ctx), opts);
  if (Object.keys(namespaces).length > 0) def.namespaces = namespaces;
  validateDomainDef(def);
  return { def, warnings: ctx.warnings };
}

function parseDomain(r: ElementReader, opts: ParseOptions): DomainDef {
  const ctx = r.ctx;
  const extras = new Extras();
  const typeAttr = r.attr('type');
  if (typeAttr === undefined) {
    throw new FerryError('XML_ERROR', 'Missing domain type attribute (expected qemu or kvm)');
  }
  const type = enumValue(
    typeAttr,
    ['qemu', 'kvm'],
    [...LIBVIRT_DOMAIN_TYPES, ...LIBVIRT_DOMAIN_TYPES_MORE],
    'Domain type',
  );
  r.skip('id'); // the runtime id of a running domain: dumpxml output may carry it
  extras.attrs('', r);

  const seen = new Set<string>();
  const text = (el: Element): string => {
    const reader = new ElementReader(el, ctx);
    const value = reader.text();
    extras.attrs(el.nodeName, reader);
    return value;
  };
  const memory = (el: Element): number => {
    const reader = new ElementReader(el, ctx);
    const kib = memoryToKiB(reader.text(), reader.attr('unit'), el.nodeName);
    extras.attrs(el.nodeName, reader);
    return kib;
  };
  let name: string | undefined;
  let uuid: string | undefined;
  let memoryKiB: number | undefined;
  let currentMemoryKiB: number | undefined;
  let vcpus = 1;
  const partial: Partial<DomainDef> = {};
  const extra: string[] = [];
  for (const el of r.children()) {
    const tag = el.nodeName;
    // Every element <domain> models occurs at most once.
    if (TOP_LEVEL.includes(tag)) once(seen, el, 'domain');
    switch (tag) {
      case 'name':
        name = text(el);
        break;
      case 'uuid': {
        const raw = text(el);
        uuid = normaliseUuid(raw);
        if (uuid === undefined) {
          throw new FerryError('XML_ERROR', `Invalid <uuid> '${raw.trim()}'`);
        }
        break;
      }
      case 'title':
        partial.title = text(el);
        break;
      case 'description':
        partial.description = text(el);
        break;
      case 'memory':
        memoryKiB = memory(el);
        break;
      case 'currentMemory':
        currentMemoryKiB = memory(el);
        break;
      case 'vcpu': {
        const reader = new ElementReader(el, ctx);
        vcpus = intValue(reader.text(), '<vcpu> count', 0, Number.MAX_SAFE_INTEGER);
        // placement='static' is what libvirt writes for a plain count; other values are kept.
        if (reader.el.getAttribute('placement') === 'static') reader.skip('placement');
        extras.attrs('vcpu', reader);
        break;
      }
      case 'os':
        partial.os = parseOs(new ElementReader(el, ctx));
        break;
      case 'features':
        partial.features = parseFeatures(new ElementReader(el, ctx), extras);
        break;
      case 'cpu':
        partial.cpu = parseCpu(new ElementReader(el, ctx));
        break;
      case 'clock':
        partial.clock = parseClock(new ElementReader(el, ctx));
        break;
      case 'on_poweroff':
        partial.onPoweroff = enumValue(text(el).trim(), LIFECYCLE, [], '<on_poweroff> action');
        break;
      case 'on_reboot':
        partial.onReboot = enumValue(text(el).trim(), LIFECYCLE, [], '<on_reboot> action');
        break;
      case 'on_crash':
        partial.onCrash = enumValue(text(el).trim(), CRASH, [], '<on_crash> action');
        break;
      case 'devices': {
        const reader = new ElementReader(el, ctx);
        extras.attrs('devices', reader);
        partial.devices = parseDevices(reader, extras, opts.generateMac ?? randomMac);
        break;
      }
      case 'metadata': {
        once(seen, el, 'domain');
        const settings = readFerrySettings(el);
        if (settings !== undefined) partial.ferry = settings;
        ctx.keep(el, 'domain', extra);
        break;
      }
      default:
        ctx.keep(el, 'domain', extra);
    }
  }
  if (name === undefined) throw new FerryError('XML_ERROR', 'Missing domain name');
  if (memoryKiB === undefined) throw new FerryError('XML_ERROR', 'Missing domain memory');
  const generated = uuid ?? normaliseUuid((opts.generateUuid ?? randomUUID)());
  if (generated === undefined) throw new FerryError('INTERNAL_ERROR', 'Generated an invalid UUID');
  return {
    type,
    name,
    uuid: generated,
    ...(partial.title === undefined ? {} : { title: partial.title }),
    ...(partial.description === undefined ? {} : { description: partial.description }),
    memoryKiB,
    currentMemoryKiB: currentMemoryKiB ?? memoryKiB,
    vcpus,
    os: partial.os ?? { type: 'hvm', arch: 'x86_64', boot: ['hd'], extra: [] },
    features: partial.features ?? [],
    ...(partial.cpu === undefined ? {} : { cpu: partial.cpu }),
    // libvirt's default clock, made explicit as its dumpxml does.
    clock: partial.clock ?? { offset: 'utc', extra: [] },
    onPoweroff: partial.onPoweroff ?? 'destroy',
    onReboot: partial.onReboot ?? 'restart',
    onCrash: partial.onCrash ?? 'destroy',
    devices: partial.devices ?? emptyDevices(),
    ...(partial.ferry === undefined ? {} : { ferry: partial.ferry }),
    extra,
    ...unmodelledOf(extras),
  };
}

function emptyDevices(): DomainDef['devices'] {
  return {
    disks: [],
    interfaces: [],
    serials: [],
    consoles: [],
    graphics: [],
    hostdevs: [],
    panics: [],
    extra: [],
  };
}

/** A random locally administered MAC in QEMU's 52:54:00 range, as libvirt generates. */
function randomMac(): string {
  const tail = randomBytes(3).toString('hex').match(/../g) ?? [];
  return ['52', '54', '00', ...tail].join(':');
}

function parseOs(r: ElementReader): OsDef {
  const extras = new Extras();
  extras.attrs('', r);
  const os: OsDef = { type: 'hvm', arch: 'x86_64', boot: [], extra: [] };
  const seen = new Set<string>();
  for (const el of r.children()) {
    const child = new ElementReader(el, r.ctx);
    switch (el.nodeName) {
      case 'type': {
        once(seen, el, 'os');
        os.type = enumValue(
          child.text().trim(),
          ['hvm'],
          ['xen', 'linux', 'exe', 'uml'],
          'OS type',
        );
        os.arch = child.attr('arch') ?? 'x86_64';
        const machine = child.attr('machine');
        if (machine !== undefined) os.machine = machine;
        extras.attrs('type', child);
        break;
      }
      case 'kernel':
      case 'initrd':
      case 'cmdline':
        once(seen, el, 'os');
        os[el.nodeName] = child.text();
        extras.attrs(el.nodeName, child);
        break;
      case 'boot': {
        const dev = child.attr('dev');
        if (dev === undefined) throw new FerryError('XML_ERROR', 'Missing dev attribute in <boot>');
        os.boot.push(enumValue(dev, BOOT, [], 'Boot device'));
        extras.leaf(`boot[${os.boot.length - 1}]`, child);
        break;
      }
      default:
        r.ctx.keep(el, 'os', os.extra);
    }
  }
  // libvirt boots from the first disk when no <boot> is given.
  if (os.boot.length === 0) os.boot.push('hd');
  return { ...os, ...unmodelledOf(extras) };
}

function parseFeatures(r: ElementReader, domainExtras: Extras): FeatureDef[] {
  domainExtras.attrs('features', r);
  return r.children().map((el) => ({
    name: el.nodeName,
    attrs: Object.fromEntries(attrsOf(el)),
    extra: serialiseChildren(el, r.ctx.rootNs),
  }));
}

function parseCpu(r: ElementReader): CpuDef {
  const extras = new Extras();
  const modes = ['custom', 'host-model', 'host-passthrough', 'maximum'] as const;
  const cpu: CpuDef = {
    mode: enumValue(r.attr('mode') ?? 'custom', modes, [], 'CPU mode'),
    features: [],
    extra: [],
  };
  const match = r.attr('match');
  if (match !== undefined)
    cpu.match = enumValue(match, ['minimum', 'exact', 'strict'], [], 'CPU match');
  const check = r.attr('check');
  if (check !== undefined)
    cpu.check = enumValue(check, ['none', 'partial', 'full'], [], 'CPU check');
  const migratable = r.attr('migratable');
  if (migratable !== undefined) {
    cpu.migratable = enumValue(migratable, ['on', 'off'], [], 'CPU migratable');
  }
  extras.attrs('', r);
  const seen = new Set<string>();
  for (const el of r.children()) {
    const child = new ElementReader(el, r.ctx);
    switch (el.nodeName) {
      case 'model': {
        once(seen, el, 'cpu');
        const fallback = child.attr('fallback') ?? 'allow'; // libvirt's default
        cpu.model = {
          name: child.text().trim(),
          fallback: enumValue(fallback, ['allow', 'forbid'], [], 'CPU model fallback'),
        };
        extras.attrs('model', child);
        break;
      }
      case 'vendor':
        once(seen, el, 'cpu');
        cpu.vendor = child.text().trim();
        extras.attrs('vendor', child);
        break;
      case 'topology': {
        once(seen, el, 'cpu');
        const count = (attr: string): number | undefined => {
          const v = child.attr(attr);
          return v === undefined ? undefined : intValue(v, `<topology> ${attr}`, 1, 4096);
        };
        cpu.topology = {
          sockets: count('sockets') ?? 1,
          dies: count('dies') ?? 1,
          cores: count('cores') ?? 1,
          threads: count('threads') ?? 1,
        };
        extras.leaf('topology', child);
        break;
      }
      case 'feature': {
        const name = child.attr('name');
        if (name === undefined) throw new FerryError('XML_ERROR', 'Missing name of CPU <feature>');
        const policies = ['force', 'require', 'optional', 'disable', 'forbid'] as const;
        const policy = enumValue(
          child.attr('policy') ?? 'require',
          policies,
          [],
          'CPU feature policy',
        );
        cpu.features.push({ policy, name });
        extras.leaf(`feature[${cpu.features.length - 1}]`, child);
        break;
      }
      default:
        r.ctx.keep(el, 'cpu', cpu.extra);
    }
  }
  // libvirt matches a custom model exactly unless told otherwise.
  if (cpu.mode === 'custom' && cpu.model !== undefined) cpu.match ??= 'exact';
  return { ...cpu, ...unmodelledOf(extras) };
}

function parseClock(r: ElementReader): ClockDef {
  const extras = new Extras();
  const offset = enumValue(r.attr('offset') ?? 'utc', CLOCK_OFFSETS, [], 'Clock offset');
  extras.attrs('', r);
  const clock: ClockDef = { offset, extra: [] };
  for (const el of r.children()) r.ctx.keep(el, 'clock', clock.extra);
  return { ...clock, ...unmodelledOf(extras) };
}
