/**
 * Disks named by pool and volume (`<disk type='volume'>`) turned into what QEMU opens: a file
 * of a dir pool, or a network source of an nbd or netfs pool. The definition keeps the pool
 * and volume; only the QEMU command line and the host checks see the resolved disk.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { DiskDef, DomainDef } from '../domain/def.js';
import type { VolumeResolver } from '../storage/resolve.js';

async function resolveDisk(disk: DiskDef, resolver: VolumeResolver | undefined): Promise<DiskDef> {
  const vol = disk.volume;
  if (disk.type !== 'volume' || vol === undefined) return disk;
  if (resolver === undefined)
    throw new FerryError(
      'NO_SUPPORT',
      `Disk '${disk.target.dev}': this host has no storage pools to find volume '${vol.volume}' in`,
    );
  const found = await resolver.resolveVolume(vol.pool, vol.volume);
  if (found.format !== disk.driver.type)
    throw new FerryError(
      'CONFIG_UNSUPPORTED',
      `Disk '${disk.target.dev}': volume '${vol.volume}' of pool '${vol.pool}' is ${found.format}, but the disk's <driver type='${disk.driver.type}'>`,
    );
  const rest: DiskDef = { ...disk };
  delete rest.volume;
  const src = found.source;
  if (src.type === 'file') return { ...rest, type: 'file', source: src.path };
  return {
    ...rest,
    type: 'network',
    network: {
      protocol: src.protocol,
      name: src.name,
      host: src.host,
      ...(src.port === undefined ? {} : { port: src.port }),
    },
  };
}

/** `def` with every volume disk resolved (the same object when it has none). */
export async function resolveVolumeDisks(
  def: DomainDef,
  resolver: VolumeResolver | undefined,
): Promise<DomainDef> {
  if (!def.devices.disks.some((d) => d.type === 'volume')) return def;
  const disks = await Promise.all(def.devices.disks.map((d) => resolveDisk(d, resolver)));
  return { ...def, devices: { ...def.devices, disks } };
}
