/**
 * `host.capacity`: what this host offers guests and what it runs now, for fleet plans. Memory
 * free is the figure the preflight's destination memory check uses (guestMemoryFree), so a
 * plan never counts on memory the migration's own preflight would refuse.
 * @module
 */
import { availableParallelism, hostname, loadavg } from 'node:os';
import type { GuestSize } from '../host/index.js';
import { guestMemoryFree, readMemAvailable, readMemTotal } from '../preflight/memory.js';
import type { HostCapacity } from '../rpc/schema/fleet-plan.js';

export interface CapacitySources {
  hostUuid: string;
  /** ferryd.conf host_memory_mib; undefined offers MemTotal. */
  hostMemoryMiB: number | undefined;
  guests: () => GuestSize[];
  /** The host-model CPU's name (cpu_limit applied). */
  cpuModel: () => Promise<string>;
  /** /proc/meminfo, or a file in its format (tests). */
  meminfoPath?: string;
  hostname?: string;
}

/** This host's capacity now. */
export async function hostCapacity(src: CapacitySources): Promise<HostCapacity> {
  const meminfo = src.meminfoPath ?? '/proc/meminfo';
  const offeredBytes =
    src.hostMemoryMiB === undefined ? readMemTotal(meminfo) : src.hostMemoryMiB * 1024 * 1024;
  const guests = src.guests();
  const free = guestMemoryFree({
    offeredBytes,
    memAvailableBytes: readMemAvailable(meminfo),
    activeGuestBytes: guests.filter((g) => g.active).map((g) => g.memoryKiB * 1024),
  });
  let cpuModel: string;
  try {
    cpuModel = await src.cpuModel();
  } catch {
    // A host whose QEMU cannot be asked still has memory to report; plans check CPUs per move.
    cpuModel = 'unknown';
  }
  return {
    hostname: src.hostname ?? hostname(),
    hostUuid: src.hostUuid,
    cpus: availableParallelism(),
    load1: Math.max(0, loadavg()[0] ?? 0),
    memoryKiB: Math.floor(offeredBytes / 1024),
    freeMemoryKiB: Math.floor(free / 1024),
    cpuModel,
    guests: guests.map((g) => ({
      name: g.name,
      uuid: g.uuid,
      state: g.state,
      persistent: g.persistent,
      vcpus: g.vcpus,
      memoryKiB: g.memoryKiB,
      busy: g.busy,
    })),
  };
}
