/**
 * Parses a <disk>: file, block, network (NBD, NFS) and volume sources, driver, target and
 * flags; anything unmodelled kept verbatim.
 * @module
 */
import type { Element } from '@xmldom/xmldom';
import { FerryError } from '../../common/errors.js';
import type { DiskBus, DiskDef, NetworkDiskSource, RawXml } from '../def.js';
import { ElementReader, Extras, enumValue, once, unmodelledOf } from './reader.js';

const DISK_BUSES: readonly DiskBus[] = ['virtio', 'sata', 'ide', 'scsi'];
/** Bus implied by a target name's prefix when <target> has no bus (vda, sda, hda). */
const BUS_BY_PREFIX: Readonly<Record<string, DiskBus>> = { vd: 'virtio', sd: 'sata', hd: 'ide' };
const CACHE_MODES = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'];
const IO_MODES = ['threads', 'native', 'io_uring'];
const LIBVIRT_DISK_FORMATS = ['qcow', 'vmdk', 'vpc', 'vdi', 'qed', 'cloop', 'dmg', 'bochs'];
const LIBVIRT_DISK_FORMATS_MORE = ['iso', 'ploop', 'vhd', 'vhdx', 'fat', 'luks', 'dir'];

export function required(value: string | undefined, message: string): string {
  if (value === undefined || value === '') throw new FerryError('XML_ERROR', message);
  return value;
}

export function parseDisk(r: ElementReader): DiskDef {
  const extras = new Extras();
  const type = enumValue(
    r.attr('type') ?? 'file',
    ['file', 'block', 'network', 'volume'],
    ['dir', 'nvme', 'vhostuser'],
    'Disk type',
  );
  const device = enumValue(
    r.attr('device') ?? 'disk',
    ['disk', 'cdrom'],
    ['floppy', 'lun'],
    'Disk device',
  );
  extras.attrs('', r);
  const disk: Omit<DiskDef, 'target'> & { target?: DiskDef['target'] } = {
    type,
    device,
    driver: { name: 'qemu', type: 'raw' },
    readonly: false,
    shareable: false,
    extra: [],
  };
  const seen = new Set<string>();
  for (const el of r.children()) {
    const child = new ElementReader(el, r.ctx);
    switch (el.nodeName) {
      case 'driver': {
        once(seen, el, 'disk');
        const name = enumValue(
          child.attr('name') ?? 'qemu',
          ['qemu'],
          ['tap', 'tap2', 'phy', 'file'],
          'Disk driver name',
        );
        const format = enumValue(
          child.attr('type') ?? 'raw',
          ['raw', 'qcow2'],
          [...LIBVIRT_DISK_FORMATS, ...LIBVIRT_DISK_FORMATS_MORE],
          'Disk format',
        );
        disk.driver = { name, type: format };
        const cache = child.attr('cache');
        if (cache !== undefined)
          disk.driver.cache = enumValue(cache, CACHE_MODES, [], 'Disk cache mode');
        const io = child.attr('io');
        if (io !== undefined) disk.driver.io = enumValue(io, IO_MODES, [], 'Disk io mode');
        extras.leaf('driver', child);
        break;
      }
      case 'source': {
        once(seen, el, 'disk');
        if (type === 'network') {
          disk.network = parseNetworkSource(child, extras);
        } else if (type === 'volume') {
          disk.volume = {
            pool: required(
              child.attr('pool'),
              "Missing pool attribute in a volume disk's <source>",
            ),
            volume: required(
              child.attr('volume'),
              "Missing volume attribute in a volume disk's <source>",
            ),
          };
          extras.leaf('source', child);
        } else {
          const path = child.attr(type === 'file' ? 'file' : 'dev');
          if (path !== undefined) disk.source = path;
          extras.leaf('source', child);
        }
        break;
      }
      case 'target': {
        once(seen, el, 'disk');
        const dev = required(child.attr('dev'), 'Missing target dev attribute in <disk>');
        const bus = child.attr('bus') ?? BUS_BY_PREFIX[dev.slice(0, 2)];
        if (bus === undefined) {
          throw new FerryError(
            'XML_ERROR',
            `Cannot infer the bus of disk target '${dev}': add a bus attribute to <target>`,
          );
        }
        disk.target = {
          dev,
          bus: enumValue(bus, DISK_BUSES, ['fdc', 'xen', 'usb', 'uml', 'sd'], 'Disk bus'),
        };
        extras.leaf('target', child);
        break;
      }
      case 'readonly':
      case 'shareable':
        once(seen, el, 'disk');
        disk[el.nodeName] = true;
        extras.leaf(el.nodeName, child);
        break;
      default:
        r.ctx.keep(el, 'disk', disk.extra);
    }
  }
  const { target } = disk;
  if (target === undefined) throw new FerryError('XML_ERROR', 'Missing <target> in <disk>');
  return { ...disk, target, ...unmodelledOf(extras) };
}

const NETWORK_PROTOCOLS = ['nbd', 'nfs'] as const;

/** <source protocol='nbd' name='export'><host name='h' port='10809'/></source>. */
function parseNetworkSource(r: ElementReader, extras: Extras): NetworkDiskSource {
  const protocol = enumValue(
    required(r.attr('protocol'), "Missing protocol attribute in a network disk's <source>"),
    NETWORK_PROTOCOLS,
    ['iscsi', 'rbd', 'sheepdog', 'gluster', 'http', 'https', 'ftp', 'ftps', 'tftp', 'ssh', 'vxhs'],
    'Network disk protocol',
  );
  const name = required(r.attr('name'), "Missing name attribute in a network disk's <source>");
  extras.attrs('source', r);
  const hosts = r.children().filter((el) => el.nodeName === 'host');
  if (hosts.length !== 1) {
    throw new FerryError(
      'XML_ERROR',
      `A network disk's <source> needs exactly one <host>, found ${hosts.length}`,
    );
  }
  const host = new ElementReader(hosts[0] as Element, r.ctx);
  const source: NetworkDiskSource = {
    protocol,
    name,
    host: required(host.attr('name'), 'Missing name attribute in <host> of a network disk'),
  };
  const port = host.attr('port');
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw new FerryError('XML_ERROR', `Invalid port '${port}' in <host> of a network disk`);
    }
    source.port = Number(port);
  }
  const transport = host.attr('transport');
  if (transport !== undefined && transport !== 'tcp') {
    throw new FerryError(
      'CONFIG_UNSUPPORTED',
      `Network disk transport '${transport}' is not supported`,
    );
  }
  extras.leaf('source/host', host);
  const kept: RawXml[] = [];
  for (const el of r.children()) {
    if (el.nodeName === 'host') continue;
    if (el.nodeName === 'identity' && protocol === 'nfs' && source.identity === undefined) {
      const id = new ElementReader(el, r.ctx);
      const user = id.attr('user');
      const group = id.attr('group');
      source.identity = {
        ...(user === undefined ? {} : { user }),
        ...(group === undefined ? {} : { group }),
      };
      extras.leaf('source/identity', id);
      continue;
    }
    r.ctx.keep(el, 'source', kept);
  }
  extras.children('source', kept);
  return source;
}
