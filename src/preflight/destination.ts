/**
 * The destination's half of the preflight (peer call `migration.preflightDestination`): can
 * this host run the guest the source describes — its CPU (the CPU service), its machine type,
 * its memory, its storage — and this host's versions and NUMA topology for the source's
 * verdicts. Changes nothing here.
 * @module
 */
import { FERRY_VERSION } from '../common/version.js';
import { messageOf } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import { parseDomainXml } from '../domain/xml/index.js';
import { readNumaTopology } from '../host/numa.js';
import { acceleratorFor } from '../qemu/command-line.js';
import { qemuHostFacts } from '../qemu/probe.js';
import type { DestinationPreflightResult, PreflightVerdict } from '../rpc/schema/preflight.js';
import type { DestinationPreflightParams } from '../rpc/schema/preflight.js';
import type { z } from 'zod';
import type { CpuCheckOutcome } from '../rpc/schema/cpu.js';
import { checkMachineOnHost } from './machine.js';
import { guestMemoryFree, readMemAvailable } from './memory.js';
import type { PreflightServices } from './services.js';
import { checkStorageHere } from './storage.js';

type Outcome = { verdict: PreflightVerdict; reason: string };

async function cpuOutcome(
  svc: PreflightServices,
  def: DomainDef,
  source: z.output<typeof DestinationPreflightParams>['sourceCpu'],
): Promise<CpuCheckOutcome> {
  try {
    return await svc.cpu.checkGuest(def.cpu, source);
  } catch (err) {
    return {
      verdict: 'fail',
      reason: `cannot check the CPU: ${messageOf(err)}`,
      missingFeatures: [],
    };
  }
}

async function machineOutcome(
  svc: PreflightServices,
  def: DomainDef,
  machine: string,
  offline: boolean,
): Promise<Outcome> {
  try {
    const facts = await qemuHostFacts(svc.qemuBinary, acceleratorFor(def), svc.cacheDir);
    return checkMachineOnHost(facts, machine, offline, svc.machineTypes);
  } catch (err) {
    return { verdict: 'fail', reason: `cannot ask the destination's QEMU: ${messageOf(err)}` };
  }
}

async function storageOutcome(
  svc: PreflightServices,
  def: DomainDef,
  params: z.output<typeof DestinationPreflightParams>,
): Promise<Outcome> {
  let resolved: DomainDef;
  try {
    resolved = await svc.domains.resolveDisks(def);
  } catch (err) {
    return {
      verdict: 'fail',
      reason: `the destination cannot find the guest's volumes: ${messageOf(err)}`,
    };
  }
  return checkStorageHere(resolved, params.disks, params.offline);
}

/**
 * What this host can give the incoming guest: MemAvailable, or with host_memory_mib the
 * figure host.capacity reports as free, so a fleet plan and this check agree.
 */
function memoryForGuests(svc: PreflightServices): number {
  const memAvailableBytes = readMemAvailable(svc.meminfoPath);
  if (svc.hostMemoryBytes === undefined) return memAvailableBytes;
  return guestMemoryFree({
    offeredBytes: svc.hostMemoryBytes,
    memAvailableBytes,
    activeGuestBytes: svc.domains
      .capacityView()
      .filter((g) => g.active)
      .map((g) => g.memoryKiB * 1024),
  });
}

export async function destinationPreflight(
  svc: PreflightServices,
  params: z.output<typeof DestinationPreflightParams>,
): Promise<DestinationPreflightResult> {
  const { def } = parseDomainXml(params.xml);
  const [cpu, machine, storage] = await Promise.all([
    cpuOutcome(svc, def, params.sourceCpu),
    machineOutcome(svc, def, params.machine, params.offline),
    storageOutcome(svc, def, params),
  ]);
  const conflict = svc.domains.incomingConflict(def, params.offline);
  return {
    ferryVersion: FERRY_VERSION,
    qemuVersion: svc.qemuVersion,
    cpu,
    machine,
    numa: readNumaTopology(),
    memAvailableBytes: memoryForGuests(svc),
    storage,
    ...(conflict === undefined ? {} : { conflict }),
  };
}
