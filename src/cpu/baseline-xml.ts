/**
 * The text `[hypervisor-]cpu-baseline` prints for a CPU file: read the CPUs, baseline them
 * (against the hypervisor's models when given), expand features on request, format.
 * @module
 */
import type { X86CpuMap } from './cpu-map.js';
import { cpuDefsFromText, formatGuestCpuXml } from './cpu-xml.js';
import { baselineX86, expandFeatures } from './x86-baseline.js';
import type { HypervisorModels } from './x86-decode.js';

export interface BaselineRequest {
  xml: string;
  fileName: string;
  /** hypervisor-cpu-baseline: the result must name a model the hypervisor offers (fallback forbid). */
  hypervisor: boolean;
  /** The hypervisor's models and their blockers (hypervisor only; undefined = all of cpu_map). */
  models?: HypervisorModels | undefined;
  features: boolean;
  migratable: boolean;
}

export function baselineCpuXml(req: BaselineRequest, map: X86CpuMap): string {
  const defs = cpuDefsFromText(req.xml, req.fileName);
  let cpu = baselineX86(defs, map, {
    ...(req.models === undefined ? {} : { models: req.models }),
    migratable: req.migratable,
  });
  // qemuConnectBaselineHypervisorCPU always forbids fallback; cpu-baseline keeps libvirt's choice.
  if (req.hypervisor) cpu = { ...cpu, fallback: 'forbid' };
  if (req.features) cpu = expandFeatures(cpu, map);
  return formatGuestCpuXml(cpu);
}
