/**
 * CPU definitions as the x86 engine sees them (libvirt's virCPUDef, reduced to what baseline,
 * compare and decode use), and how a definition becomes CPU data (x86ModelFromCPU).
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { X86CpuMap, X86Model } from './cpu-map.js';
import { X86Data } from './x86-data.js';

export type X86FeaturePolicy = 'force' | 'require' | 'optional' | 'disable' | 'forbid';

export interface X86CpuFeature {
  name: string;
  policy: X86FeaturePolicy;
}

export interface X86CpuDef {
  /** 'host': a host's CPU (every listed feature is present; policies are ignored). */
  type: 'host' | 'guest';
  arch?: string;
  model?: string;
  vendor?: string;
  fallback?: 'allow' | 'forbid';
  match?: 'minimum' | 'exact' | 'strict';
  features: X86CpuFeature[];
}

export function findModel(map: X86CpuMap, name: string): X86Model {
  const model = map.modelByName.get(name);
  if (model === undefined) {
    throw new FerryError('CONFIG_UNSUPPORTED', `Unknown CPU model ${name}`);
  }
  return model;
}

export function findFeatureData(map: X86CpuMap, name: string): X86Data {
  const feature = map.featureByName.get(name);
  if (feature === undefined) {
    throw new FerryError('CONFIG_UNSUPPORTED', `Unknown CPU feature ${name}`);
  }
  return feature.data;
}

/**
 * The data of `cpu` for one policy's features (the model is counted as 'require'), or, for
 * 'all', what the CPU really has: model + required/forced − disabled/forbidden.
 */
export function cpuData(cpu: X86CpuDef, map: X86CpuMap, policy: X86FeaturePolicy | 'all'): X86Data {
  if (cpu.type === 'host' && policy !== 'require' && policy !== 'all') return new X86Data();
  const data =
    cpu.model !== undefined && (policy === 'require' || policy === 'all')
      ? findModel(map, cpu.model).data.copy()
      : new X86Data();
  for (const f of cpu.features) {
    const fpol: X86FeaturePolicy = cpu.type === 'host' ? 'require' : f.policy;
    if ((policy === 'all' && fpol === 'optional') || (policy !== 'all' && fpol !== policy))
      continue;
    const fdata = findFeatureData(map, f.name);
    if (policy === 'all' && (fpol === 'disable' || fpol === 'forbid')) data.subtract(fdata);
    else data.add(fdata);
  }
  return data;
}

/** The map's features fully present in `data`, in map order, each taken out of `data`. */
export function featuresIn(data: X86Data, map: X86CpuMap): string[] {
  const rest = data.copy();
  const out: string[] = [];
  for (const f of map.features) {
    if (!f.data.isEmpty() && rest.hasAll(f.data)) {
      out.push(f.name);
      rest.subtract(f.data);
    }
  }
  return out;
}

/** Every feature whose bits are all in `data`, in map order, without taking any out. */
export function featureNames(data: X86Data, map: X86CpuMap): string[] {
  return map.features.filter((f) => !f.data.isEmpty() && data.hasAll(f.data)).map((f) => f.name);
}
