/**
 * What the rest of ferryd asks of the CPU model code: this host's CPU, and whether this host
 * can run a given guest CPU that now runs on another host. Migration's preflight asks the
 * destination through this.
 * @module
 */
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

/**
 * PLACEHOLDER until src/cpu lands (issue #6 branch feat/cpu replaces it): answers 'skip' so
 * the preflight can be built against the interface. Never ship this.
 */
export class UncheckedCpuService implements CpuService {
  hostModel(): Promise<HostCpuModel> {
    return Promise.resolve({ arch: 'x86_64', vendor: '', model: 'qemu64', features: [] });
  }
  checkGuest(): Promise<CpuCheckOutcome> {
    return Promise.resolve({
      verdict: 'skip',
      reason: 'CPU check not built yet',
      missingFeatures: [],
    });
  }
}
