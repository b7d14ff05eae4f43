/**
 * What the preflight needs of the ferryd it runs in (both sides).
 * @module
 */
import type { CpuService } from '../cpu/service.js';
import type { DomainManager, Logger } from '../host/index.js';
import type { KeepaliveOptions } from '../rpc/index.js';
import type { MachineTypePolicy } from './machine.js';

export interface PreflightServices {
  domains: DomainManager;
  hostUuid: string;
  cpu: CpuService;
  qemuBinary: string;
  /** This host's QEMU version ('7.2.22'), null when QEMU is not usable. */
  qemuVersion: string | null;
  /** Where QEMU host facts are cached (`${stateDir}/cache`). */
  cacheDir: string;
  /** ferryd.conf machine_types. */
  machineTypes: MachineTypePolicy;
  log: Logger;
  keepalive?: KeepaliveOptions | undefined;
  /**
   * ferryd.conf host_memory_mib in bytes: the destination's memory check then offers what
   * host.capacity calls free (guestMemoryFree); undefined keeps MemAvailable alone.
   */
  hostMemoryBytes?: number | undefined;
  /** /proc/meminfo, or a file in its format (tests). */
  meminfoPath?: string;
}
