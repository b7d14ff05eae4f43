/**
 * The fleet as a plan sees it while placing guests: each host's memory offered and used, its
 * vCPUs in use, and its guests; moves are applied to a copy so a placement can be tried and
 * dropped. Pure (no I/O): built from the members' capacities.
 * @module
 */
import { memoryNeeded } from '../../preflight/memory.js';
import type { FleetGuest, HostCapacity } from '../../rpc/schema/fleet-plan.js';
import { headroomKiB } from './headroom.js';

export interface HostState {
  readonly name: string;
  readonly cpus: number;
  /** Memory offered to guests (KiB). */
  readonly offeredKiB: number;
  /** Memory in use (KiB): offered − free as the host reported, then moves applied. */
  usedKiB: number;
  /** vCPUs of its active guests. */
  vcpus: number;
  guests: FleetGuest[];
}

/** A guest with a QEMU process: it holds memory and vCPUs, and moves live. */
export function isActiveGuest(g: FleetGuest): boolean {
  return g.state !== 'shut off';
}

/** What a guest takes on a host (KiB): RAM plus QEMU's overhead while active, else nothing. */
export function needKiB(g: FleetGuest): number {
  return isActiveGuest(g) ? Math.ceil(memoryNeeded(g.memoryKiB * 1024) / 1024) : 0;
}

/**
 * How a plan would move the guest, or why it cannot: running/paused guests live, persistent
 * shut-off guests offline; busy guests and other states are left alone.
 */
export function modeOf(g: FleetGuest): { mode: 'live' | 'offline' } | { why: string } {
  if (g.busy) return { why: 'busy: a job holds it' };
  if (g.state === 'running' || g.state === 'paused') return { mode: 'live' };
  if (g.state === 'shut off')
    return g.persistent ? { mode: 'offline' } : { why: 'transient and shut off' };
  return { why: `state: ${g.state}` };
}

export class FleetState {
  readonly hosts: Map<string, HostState>;

  private constructor(hosts: Map<string, HostState>) {
    this.hosts = hosts;
  }

  static from(capacities: readonly HostCapacity[]): FleetState {
    const hosts = new Map<string, HostState>();
    for (const c of capacities)
      hosts.set(c.hostname, {
        name: c.hostname,
        cpus: Math.max(1, c.cpus),
        offeredKiB: c.memoryKiB,
        usedKiB: Math.max(0, c.memoryKiB - c.freeMemoryKiB),
        vcpus: c.guests.filter(isActiveGuest).reduce((s, g) => s + g.vcpus, 0),
        guests: [...c.guests],
      });
    return new FleetState(hosts);
  }

  clone(): FleetState {
    const copy = new Map<string, HostState>();
    for (const [name, h] of this.hosts) copy.set(name, { ...h, guests: [...h.guests] });
    return new FleetState(copy);
  }

  host(name: string): HostState {
    const h = this.hosts.get(name);
    if (h === undefined) throw new Error(`no host '${name}' in the plan's fleet`);
    return h;
  }

  /** The host a guest is on now, by UUID. */
  whereIs(uuid: string): HostState | undefined {
    for (const h of this.hosts.values()) if (h.guests.some((g) => g.uuid === uuid)) return h;
    return undefined;
  }

  freeKiB(name: string): number {
    const h = this.host(name);
    return h.offeredKiB - h.usedKiB;
  }

  /** Free memory on `to` after `g` arrived (KiB). */
  freeAfterKiB(g: FleetGuest, to: string): number {
    return this.freeKiB(to) - needKiB(g);
  }

  /** `g` fits on `to` keeping its headroom. */
  fits(g: FleetGuest, to: string): boolean {
    return this.freeAfterKiB(g, to) >= headroomKiB(this.host(to).offeredKiB);
  }

  move(g: FleetGuest, from: string, to: string): void {
    const src = this.host(from);
    const dst = this.host(to);
    src.guests = src.guests.filter((x) => x.uuid !== g.uuid);
    dst.guests = [...dst.guests, g];
    const need = needKiB(g);
    src.usedKiB = Math.max(0, src.usedKiB - need);
    dst.usedKiB += need;
    if (isActiveGuest(g)) {
      src.vcpus -= g.vcpus;
      dst.vcpus += g.vcpus;
    }
  }

  memoryShare(name: string): number {
    const h = this.host(name);
    return h.offeredKiB === 0 ? 1 : h.usedKiB / h.offeredKiB;
  }

  cpuShare(name: string): number {
    const h = this.host(name);
    return h.vcpus / h.cpus;
  }

  /** max − min over the hosts of memory used / offered, and of vCPUs / CPUs. */
  spread(): { memory: number; cpu: number } {
    const names = [...this.hosts.keys()];
    if (names.length === 0) return { memory: 0, cpu: 0 };
    const mem = names.map((n) => this.memoryShare(n));
    const cpu = names.map((n) => this.cpuShare(n));
    return {
      memory: Math.max(...mem) - Math.min(...mem),
      cpu: Math.max(...cpu) - Math.min(...cpu),
    };
  }
}
