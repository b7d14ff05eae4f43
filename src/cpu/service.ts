/**
 * What the rest of ferryd asks of the CPU model code: this host's CPU, and whether this host
 * can run a given guest CPU that now runs on another host. Migration's preflight and the
 * incoming prepare ask the destination through this.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { CpuDef } from '../domain/def.js';
import type { CpuCheckOutcome, HostCpuModel } from '../rpc/schema/cpu.js';

export interface CpuService {
  /** This host's CPU in host-model form (domcapabilities' `<mode name='host-model'>`). */
  hostModel(): Promise<HostCpuModel>;
  /**
   * Whether this host can run a guest whose live definition has `cpu` (undefined: QEMU's
   * default model) and that runs now on a host whose CPU is `source`. Fails naming the missing
   * features; Intel ↔ AMD fails; host-passthrough passes only between identical host CPUs.
   */
  checkGuest(cpu: CpuDef | undefined, source: HostCpuModel): Promise<CpuCheckOutcome>;
}

/** The CPU_INCOMPATIBLE error for a failed check, its missing features in `data`. */
export function cpuIncompatibleError(outcome: CpuCheckOutcome): FerryError {
  return new FerryError(
    'CPU_INCOMPATIBLE',
    `operation failed: guest CPU is not compatible with this host: ${outcome.reason}`,
    { data: { missingFeatures: outcome.missingFeatures } },
  );
}

/**
 * Throws CPU_INCOMPATIBLE unless this host can run `cpu`, which runs now on a host with CPU
 * `source` (undefined: a source too old to say, taken to have this host's CPU).
 */
export async function requireRunnableCpu(
  service: CpuService,
  cpu: CpuDef | undefined,
  source: HostCpuModel | undefined,
): Promise<void> {
  const outcome = await service.checkGuest(cpu, source ?? (await service.hostModel()));
  if (outcome.verdict === 'fail') throw cpuIncompatibleError(outcome);
}
