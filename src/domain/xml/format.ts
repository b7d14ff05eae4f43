/**
 * Formats a {@link DomainDef} as libvirt's dumpxml does: single-quoted attributes, two-space
 * indentation, elements in libvirt's order, memory in KiB. Verbatim extras are re-indented to
 * their depth and placed where libvirt would put elements of their name.
 * @module
 */
import type {
  CharDevDef,
  CpuDef,
  DiskDef,
  DomainDef,
  GraphicsDef,
  InterfaceDef,
  OsDef,
  PanicDef,
} from '../def.js';
import { element, ordered, piece, rawPieces } from './writer.js';
import {
  CHARDEV_ORDER,
  CPU_ORDER,
  DEVICE_ORDER,
  DISK_ORDER,
  DOMAIN_ORDER,
  FEATURE_ORDER,
  INTERFACE_ORDER,
  OS_ORDER,
  PANIC_ORDER,
} from './order.js';
import type { Attrs, Piece } from './writer.js';

/** Options of {@link formatDomainXml}. */
export interface FormatOptions {
  /** Runtime id of a running domain, shown as `<domain … id='5'>` like libvirt's live XML. */
  id?: number;
}

function formatOs(os: OsDef): string {
  const more = os.unmodelled;
  const pieces: Piece[] = [
    piece(
      'type',
      [
        ['arch', os.arch],
        ['machine', os.machine],
      ],
      { text: os.type },
      more,
    ),
  ];
  for (const name of ['kernel', 'initrd', 'cmdline'] as const) {
    const value = os[name];
    if (value !== undefined) pieces.push(piece(name, [], { text: value }, more));
  }
  os.boot.forEach((dev, i) => pieces.push(piece('boot', [['dev', dev]], [], more, `boot[${i}]`)));
  pieces.push(...rawPieces(os.extra));
  return element('os', [], ordered(pieces, OS_ORDER), more?.['']);
}

function formatCpu(cpu: CpuDef): string {
  const more = cpu.unmodelled;
  const pieces: Piece[] = [];
  if (cpu.model !== undefined) {
    const { name, fallback } = cpu.model;
    pieces.push(piece('model', [['fallback', fallback]], { text: name }, more));
  }
  if (cpu.vendor !== undefined) pieces.push(piece('vendor', [], { text: cpu.vendor }, more));
  const topo = cpu.topology;
  if (topo !== undefined) {
    const attrs: Attrs = [
      ['sockets', topo.sockets],
      ['dies', topo.dies],
      ['cores', topo.cores],
      ['threads', topo.threads],
    ];
    pieces.push(piece('topology', attrs, [], more));
  }
  cpu.features.forEach((f, i) =>
    pieces.push(
      piece(
        'feature',
        [
          ['policy', f.policy],
          ['name', f.name],
        ],
        [],
        more,
        `feature[${i}]`,
      ),
    ),
  );
  pieces.push(...rawPieces(cpu.extra));
  const attrs: Attrs = [
    ['mode', cpu.mode],
    ['match', cpu.match],
    ['check', cpu.check],
    ['migratable', cpu.migratable],
  ];
  return element('cpu', attrs, ordered(pieces, CPU_ORDER), more?.['']);
}

function formatDisk(disk: DiskDef): string {
  const more = disk.unmodelled;
  const { driver, target } = disk;
  const driverAttrs: Attrs = [
    ['name', driver.name],
    ['type', driver.type],
    ['cache', driver.cache],
    ['io', driver.io],
  ];
  const pieces: Piece[] = [piece('driver', driverAttrs, [], more)];
  if (disk.network !== undefined) {
    const net = disk.network;
    const host = element(
      'host',
      [
        ['name', net.host],
        ['port', net.port],
      ],
      [],
      more?.['source/host'],
    );
    pieces.push(
      piece(
        'source',
        [
          ['protocol', net.protocol],
          ['name', net.name],
        ],
        net.identity === undefined
          ? [host]
          : [
              host,
              element(
                'identity',
                [
                  ['user', net.identity.user],
                  ['group', net.identity.group],
                ],
                [],
                more?.['source/identity'],
              ),
            ],
        more,
      ),
    );
  } else if (disk.volume !== undefined) {
    const attrs: Attrs = [
      ['pool', disk.volume.pool],
      ['volume', disk.volume.volume],
    ];
    pieces.push(piece('source', attrs, [], more));
  } else if (disk.source !== undefined || more?.['source'] !== undefined) {
    pieces.push(piece('source', [[disk.type === 'file' ? 'file' : 'dev', disk.source]], [], more));
  }
  pieces.push(
    piece(
      'target',
      [
        ['dev', target.dev],
        ['bus', target.bus],
      ],
      [],
      more,
    ),
  );
  if (disk.readonly) pieces.push(piece('readonly', [], [], more));
  if (disk.shareable) pieces.push(piece('shareable', [], [], more));
  pieces.push(...rawPieces(disk.extra));
  const attrs: Attrs = [
    ['type', disk.type],
    ['device', disk.device],
  ];
  return element('disk', attrs, ordered(pieces, DISK_ORDER), more?.['']);
}

function formatInterface(nic: InterfaceDef): string {
  const more = nic.unmodelled;
  const pieces: Piece[] = [];
  if (nic.mac !== undefined) pieces.push(piece('mac', [['address', nic.mac]], [], more));
  if (nic.source !== undefined || more?.['source'] !== undefined) {
    const attr = nic.type === 'user' ? undefined : nic.type;
    pieces.push(piece('source', attr === undefined ? [] : [[attr, nic.source]], [], more));
  }
  if (nic.model !== undefined) pieces.push(piece('model', [['type', nic.model]], [], more));
  pieces.push(...rawPieces(nic.extra));
  return element('interface', [['type', nic.type]], ordered(pieces, INTERFACE_ORDER), more?.['']);
}

function onOff(value: boolean | undefined): string | undefined {
  return value === undefined ? undefined : value ? 'on' : 'off';
}

function formatCharDev(tag: 'serial' | 'console', chr: CharDevDef): string {
  const more = chr.unmodelled;
  const pieces: Piece[] = [];
  const source: Attrs = [
    ['mode', chr.mode],
    ['path', chr.path],
    ['append', onOff(chr.append)],
  ];
  if (source.some(([, v]) => v !== undefined) || more?.['source'] !== undefined) {
    pieces.push(piece('source', source, [], more));
  }
  const target: Attrs = [
    ['type', chr.targetType],
    ['port', chr.targetPort],
  ];
  if (target.some(([, v]) => v !== undefined) || more?.['target'] !== undefined) {
    pieces.push(piece('target', target, [], more));
  }
  pieces.push(...rawPieces(chr.extra));
  return element(tag, [['type', chr.type]], ordered(pieces, CHARDEV_ORDER), more?.['']);
}

function formatGraphics(g: GraphicsDef): string {
  const autoport = g.autoport === undefined ? undefined : g.autoport ? 'yes' : 'no';
  const attrs: Attrs = [
    ['type', g.type],
    ['port', g.port],
    ['autoport', autoport],
    ['listen', g.listen],
  ];
  return element('graphics', attrs, g.extra, g.unmodelled?.['']);
}

function formatPanic(panic: PanicDef): string {
  const more = panic.unmodelled;
  const pieces: Piece[] = [];
  if (panic.iobase !== undefined || more?.['address'] !== undefined) {
    const iobase = panic.iobase === undefined ? undefined : `0x${panic.iobase.toString(16)}`;
    const attrs: Attrs = [
      ['type', 'isa'],
      ['iobase', iobase],
    ];
    pieces.push(piece('address', attrs, [], more));
  }
  pieces.push(...rawPieces(panic.extra));
  return element('panic', [['model', panic.model]], ordered(pieces, PANIC_ORDER), more?.['']);
}

function formatDevices(def: DomainDef): string {
  const { devices } = def;
  const more = def.unmodelled;
  const pieces: Piece[] = [];
  if (devices.emulator !== undefined) {
    pieces.push(piece('emulator', [], { text: devices.emulator }, more, 'devices/emulator'));
  }
  pieces.push(...devices.disks.map((d) => ({ name: 'disk', xml: formatDisk(d) })));
  pieces.push(...devices.interfaces.map((n) => ({ name: 'interface', xml: formatInterface(n) })));
  pieces.push(...devices.serials.map((s) => ({ name: 'serial', xml: formatCharDev('serial', s) })));
  pieces.push(
    ...devices.consoles.map((c) => ({ name: 'console', xml: formatCharDev('console', c) })),
  );
  pieces.push(...devices.graphics.map((g) => ({ name: 'graphics', xml: formatGraphics(g) })));
  pieces.push(...devices.hostdevs.map((h) => ({ name: h.element ?? 'hostdev', xml: h.raw })));
  pieces.push(...devices.panics.map((p) => ({ name: 'panic', xml: formatPanic(p) })));
  pieces.push(...rawPieces(devices.extra));
  const xml = element('devices', [], ordered(pieces, DEVICE_ORDER), more?.['devices']);
  // libvirt writes an empty <devices> as an open and a close tag on two lines.
  return xml.endsWith('/>') ? `${xml.slice(0, -2)}>\n</devices>` : xml;
}

/**
 * Formats a domain definition as libvirt domain XML, ending with a newline. The output parses
 * back to an equal definition, and formatting that again gives the same text.
 */
export function formatDomainXml(def: DomainDef, opts: FormatOptions = {}): string {
  const more = def.unmodelled;
  const text = (name: string, value: string): Piece => piece(name, [], { text: value }, more);
  const pieces: Piece[] = [text('name', def.name), text('uuid', def.uuid)];
  if (def.title !== undefined) pieces.push(text('title', def.title));
  if (def.description !== undefined) pieces.push(text('description', def.description));
  pieces.push(
    piece('memory', [['unit', 'KiB']], { text: String(def.memoryKiB) }, more),
    piece('currentMemory', [['unit', 'KiB']], { text: String(def.currentMemoryKiB) }, more),
    // A kept placement (e.g. 'auto') replaces the 'static' libvirt writes for a plain count.
    piece(
      'vcpu',
      [['placement', more?.['vcpu']?.attrs['placement'] ?? 'static']],
      { text: String(def.vcpus) },
      more,
    ),
    { name: 'os', xml: formatOs(def.os) },
  );
  if (def.features.length > 0 || more?.['features'] !== undefined) {
    const features = def.features.map((f) => ({
      name: f.name,
      xml: element(f.name, Object.entries(f.attrs), f.extra),
    }));
    pieces.push(piece('features', [], ordered(features, FEATURE_ORDER), more));
  }
  if (def.cpu !== undefined) pieces.push({ name: 'cpu', xml: formatCpu(def.cpu) });
  if (def.clock !== undefined) {
    const { offset, extra, unmodelled } = def.clock;
    pieces.push({
      name: 'clock',
      xml: element('clock', [['offset', offset]], extra, unmodelled?.['']),
    });
  }
  pieces.push(
    text('on_poweroff', def.onPoweroff),
    text('on_reboot', def.onReboot),
    text('on_crash', def.onCrash),
    { name: 'devices', xml: formatDevices(def) },
    ...rawPieces(def.extra),
  );
  const namespaces = Object.entries(def.namespaces ?? {}).map(([prefix, uri]): [string, string] => [
    prefix === '' ? 'xmlns' : `xmlns:${prefix}`,
    uri,
  ]);
  const attrs: Attrs = [['type', def.type], ['id', opts.id], ...namespaces];
  return `${element('domain', attrs, ordered(pieces, DOMAIN_ORDER), more?.[''])}\n`;
}
