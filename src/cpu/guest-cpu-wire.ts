/**
 * A domain's `<cpu>` on the wire (cpu.checkGuest's GuestCpu) and back: only what the CPU check
 * reads travels; the XML it does not model stays home.
 * @module
 */
import type { CpuDef } from '../domain/def.js';
import type { GuestCpu } from '../rpc/schema/cpu-methods.js';

export function guestCpuOf(cpu: CpuDef): GuestCpu {
  return {
    mode: cpu.mode,
    ...(cpu.match === undefined ? {} : { match: cpu.match }),
    ...(cpu.model === undefined
      ? {}
      : {
          model: {
            name: cpu.model.name,
            ...(cpu.model.fallback === undefined ? {} : { fallback: cpu.model.fallback }),
          },
        }),
    ...(cpu.vendor === undefined ? {} : { vendor: cpu.vendor }),
    features: cpu.features.map((f) => ({ policy: f.policy, name: f.name })),
  };
}

export function cpuDefOf(cpu: GuestCpu): CpuDef {
  return {
    mode: cpu.mode,
    ...(cpu.match === undefined ? {} : { match: cpu.match }),
    ...(cpu.model === undefined
      ? {}
      : {
          model: {
            name: cpu.model.name,
            ...(cpu.model.fallback === undefined ? {} : { fallback: cpu.model.fallback }),
          },
        }),
    ...(cpu.vendor === undefined ? {} : { vendor: cpu.vendor }),
    features: cpu.features.map((f) => ({ policy: f.policy, name: f.name })),
    extra: [],
  };
}
