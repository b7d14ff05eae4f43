/**
 * A live or offline migration's disks, on the destination: the source's requests checked
 * against the definition it sent (a probe or a copy may only name the definition's own disks),
 * the shared disks proved, the targets of copied disks made ready, and the NBD exports the
 * source mirrors onto.
 * @module
 */
import { posix } from 'node:path';
import { FerryError } from '../../common/errors.js';
import { NBD_DEFAULT_PORT } from '../../qemu/disk-args.js';
import type { DiskDef, DomainDef } from '../../domain/def.js';
import type { QmpClient } from '../../qmp/index.js';
import type { CopiedDisk, DiskProbe } from '../../rpc/schema/migration-disks.js';
import { allocatePort } from '../ports.js';
import { imageName } from './image.js';
import { startDiskExports } from './nbd-export.js';
import { checkNotShared, checkSharedDisks } from './probe.js';
import { prepareTargets } from './targets.js';

export interface IncomingDisks {
  probes: DiskProbe[];
  copy: CopiedDisk[];
  copyProbes: DiskProbe[];
  port?: number | undefined;
}

function refuse(message: string): never {
  throw new FerryError('INVALID_ARG', `Bad disk request from the source: ${message}`);
}

/** Every probe must be about a disk of `def`, at the place `def` says. */
export function checkRequests(def: DomainDef, disks: IncomingDisks): void {
  const byDev = new Map<string, DiskDef>(def.devices.disks.map((d) => [d.target.dev, d]));
  for (const probe of disks.probes) {
    const disk = byDev.get(probe.dev) ?? refuse(`no disk '${probe.dev}'`);
    if (probe.kind === 'marker') {
      const dir = probe.path.slice(0, probe.path.lastIndexOf('/'));
      const marker = new RegExp(
        `^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.ferry-probe-[0-9a-f]{32}$`,
      );
      if (disk.source !== probe.path || !marker.test(probe.marker))
        refuse(`probe of '${probe.dev}' is not about its image`);
    } else if (!probeMatches(disk, probe)) refuse(`probe of '${probe.dev}' is not about its image`);
  }
}

/** A network or device probe must name exactly the disk's own source. */
function probeMatches(disk: DiskDef, probe: DiskProbe): boolean {
  const net = disk.network;
  switch (probe.kind) {
    case 'marker':
      return false;
    case 'nfs-marker':
      return (
        net?.protocol === 'nfs' &&
        net.host === probe.host &&
        net.name === probe.image &&
        posix.dirname(net.name) === probe.dir
      );
    case 'nbd-export':
      return (
        net?.protocol === 'nbd' &&
        net.host === probe.host &&
        (net.port ?? NBD_DEFAULT_PORT) === probe.port &&
        net.name === probe.export
      );
    case 'header':
      return imageName(disk) === probe.name;
  }
}

/**
 * The copies with their targets where this host's definition puts them: the same path as on
 * the source for a file disk, the destination pool's volume for a volume disk.
 */
export function targetsOf(def: DomainDef, copies: readonly CopiedDisk[]): CopiedDisk[] {
  const byDev = new Map<string, DiskDef>(def.devices.disks.map((d) => [d.target.dev, d]));
  return copies.map((copy) => {
    const disk = byDev.get(copy.dev) ?? refuse(`no disk '${copy.dev}'`);
    if (disk.source === undefined || disk.network !== undefined || disk.driver.type !== copy.format)
      refuse(`copy of '${copy.dev}' is not about a file disk of that format`);
    return { ...copy, path: disk.source };
  });
}

/**
 * Before the incoming QEMU starts: proves the shared disks, then creates (or accepts) the
 * targets of copied ones. `def` has its volume disks resolved by this host. Returns the images
 * it created, which a failed job removes, and the targets (where each copy goes here).
 */
export async function prepareIncomingDisks(
  def: DomainDef,
  disks: IncomingDisks,
): Promise<{ created: string[]; targets: CopiedDisk[] }> {
  checkRequests(def, disks);
  const targets = targetsOf(def, disks.copy);
  await checkSharedDisks(disks.probes);
  // A copy whose target here is the source's own path might be the very same file.
  const samePath = disks.copyProbes.filter(
    (p) => p.kind === 'marker' && targets.some((t) => t.dev === p.dev && t.path === p.path),
  );
  checkRequests(def, { ...disks, probes: samePath });
  await checkNotShared(samePath);
  return { created: await prepareTargets(targets), targets };
}

/** Exports the copied disks of the waiting QEMU; returns the NBD server's port. */
export async function exportIncomingDisks(
  qmp: QmpClient,
  disks: IncomingDisks,
  at: {
    listen: string;
    range: readonly [number, number];
    taken: ReadonlySet<number>;
    tls: boolean;
  },
): Promise<number> {
  const port = disks.port ?? (await allocatePort(at.listen, at.range, at.taken));
  await startDiskExports(qmp, {
    listen: at.listen,
    port,
    devs: disks.copy.map((c) => c.dev),
    tls: at.tls,
  }).catch((err: unknown) => {
    throw new FerryError(
      'OPERATION_FAILED',
      `Cannot export the disks for copying on port ${port}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  });
  return port;
}
