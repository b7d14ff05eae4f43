/**
 * Synthetic fleets for the planner's unit tests: hosts with guests whose memory in use is
 * what the guests need (RAM + QEMU's overhead), every move compatible unless said otherwise.
 * @module
 */
import type { FleetGuest, HostCapacity } from '../../rpc/schema/fleet-plan.js';
import { needKiB } from './fleet-state.js';
import { compatKey, linkKey, type PlannerInput } from './types.js';

export function guest(
  name: string,
  memoryMiB: number,
  extra: Partial<FleetGuest> = {},
): FleetGuest {
  return {
    name,
    uuid: `uuid-${name}`,
    state: 'running',
    persistent: true,
    vcpus: 1,
    memoryKiB: memoryMiB * 1024,
    busy: false,
    ...extra,
  };
}

export function host(
  name: string,
  offeredMiB: number,
  guests: FleetGuest[],
  cpus = 2,
): HostCapacity {
  const used = guests.reduce((s, g) => s + needKiB(g), 0);
  return {
    hostname: name,
    hostUuid: `hu-${name}`,
    cpus,
    load1: 0,
    memoryKiB: offeredMiB * 1024,
    freeMemoryKiB: Math.max(0, offeredMiB * 1024 - used),
    cpuModel: 'qemu64',
    guests,
  };
}

/** Every guest may go to every other host, but for `refuse` (guest name → host → reason). */
export function fleet(
  hosts: HostCapacity[],
  opts: {
    refuse?: Record<string, Record<string, string>>;
    linkMiBs?: number;
    dirty?: Record<string, number>;
  } = {},
): PlannerInput {
  const compat = new Map<string, string | null>();
  const links = new Map<string, number>();
  for (const h of hosts)
    for (const g of h.guests)
      for (const t of hosts)
        if (t.hostname !== h.hostname)
          compat.set(compatKey(g.uuid, t.hostname), opts.refuse?.[g.name]?.[t.hostname] ?? null);
  for (const a of hosts)
    for (const b of hosts)
      if (a !== b) links.set(linkKey(a.hostname, b.hostname), opts.linkMiBs ?? 400);
  const dirty = new Map<string, number>();
  for (const [name, rate] of Object.entries(opts.dirty ?? {})) dirty.set(`uuid-${name}`, rate);
  return { hosts, compat, links, dirty };
}
