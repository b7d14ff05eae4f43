/**
 * Baseline, compare and feature expansion of x86 CPUs, as libvirt 9's virCPUx86Baseline,
 * x86Compute and virCPUx86ExpandFeatures do: the baseline is the intersection of the CPUs'
 * feature bits, decoded into the best model; compare checks a guest CPU's needs against a
 * host CPU's bits.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { X86CpuMap } from './cpu-map.js';
import {
  type X86CpuDef,
  type X86CpuFeature,
  cpuData,
  featureNames,
  featuresIn,
  findModel,
} from './x86-cpu.js';
import { X86Data } from './x86-data.js';
import { type HypervisorModels, decodeX86 } from './x86-decode.js';

export interface BaselineOptions {
  /** Only these models may name the result (hypervisor-cpu-baseline's models). */
  models?: HypervisorModels;
  /** Only these features may be in the result (what the hypervisor can run). */
  features?: string[];
  migratable?: boolean;
}

/** A baseline result: `<cpu mode='custom' match='exact'>`. */
export interface BaselineCpu {
  model: string;
  fallback: 'allow' | 'forbid';
  vendor?: string;
  features: X86CpuFeature[];
}

function failed(message: string): FerryError {
  return new FerryError('OPERATION_FAILED', message);
}

/** The most capable CPU that every one of `cpus` can run. */
export function baselineX86(
  cpus: X86CpuDef[],
  map: X86CpuMap,
  opts: BaselineOptions = {},
): BaselineCpu {
  const first = cpus[0];
  if (first === undefined) throw new FerryError('INVALID_ARG', 'No CPU definitions to baseline');
  const base = cpuData(first, map, 'all');
  let outputVendor = first.vendor !== undefined;
  let vendor = first.vendor === undefined ? undefined : vendorByName(map, first.vendor);
  const modelNames = first.model === undefined ? [] : [first.model];
  for (const cpu of cpus.slice(1)) {
    const data = cpuData(cpu, map, 'all');
    const modelVendor = cpu.model === undefined ? undefined : findModel(map, cpu.model).vendor;
    if (cpu.vendor !== undefined && modelVendor !== undefined && cpu.vendor !== modelVendor.name) {
      throw failed(
        `CPU vendor ${modelVendor.name} of model ${cpu.model ?? ''} differs from vendor ${cpu.vendor}`,
      );
    }
    let vn: string | undefined;
    if (cpu.vendor !== undefined) vn = cpu.vendor;
    else {
      outputVendor = false;
      vn = modelVendor?.name;
    }
    if (vn !== undefined) {
      if (vendor === undefined) vendor = vendorByName(map, vn);
      else if (vendor.name !== vn) throw failed('CPU vendors do not match');
    }
    if (cpu.model !== undefined && !modelNames.includes(cpu.model)) modelNames.push(cpu.model);
    base.intersect(data);
  }
  if (opts.features !== undefined) {
    const allowed = new X86Data();
    for (const name of opts.features) {
      const f = map.featureByName.get(name);
      if (f !== undefined) allowed.add(f.data);
    }
    base.intersect(allowed);
  }
  if (base.isEmpty()) throw failed('CPUs are incompatible');
  if (vendor !== undefined) base.add(vendor.data);
  const decoded = decodeX86(base, map, {
    type: 'guest',
    ...(opts.models === undefined ? {} : { models: opts.models }),
    ...(modelNames.length === 0 ? {} : { preferred: modelNames }),
    ...(opts.migratable === undefined ? {} : { migratable: opts.migratable }),
  });
  return {
    model: decoded.model,
    fallback: modelNames.length === 1 && decoded.model === modelNames[0] ? 'forbid' : 'allow',
    ...(outputVendor && decoded.vendor !== undefined ? { vendor: decoded.vendor } : {}),
    features: decoded.features,
  };
}

function vendorByName(map: X86CpuMap, name: string): NonNullable<X86CpuMap['vendors'][number]> {
  const v = map.vendors.find((x) => x.name === name);
  if (v === undefined) throw failed(`Unknown CPU vendor ${name}`);
  return v;
}

/**
 * Every feature of the model listed explicitly (virsh's --features), sorted by name as libvirt
 * prints them; the CPU's own require/disable entries override, removed features are disabled.
 */
export function expandFeatures(cpu: BaselineCpu, map: X86CpuMap): BaselineCpu {
  const model = findModel(map, cpu.model);
  const features = new Map<string, X86CpuFeature['policy']>();
  for (const name of featuresIn(model.data, map)) features.set(name, 'require');
  for (const f of cpu.features) {
    if (f.policy === 'require' || f.policy === 'disable') features.set(f.name, f.policy);
  }
  for (const name of model.removedFeatures) if (!features.has(name)) features.set(name, 'disable');
  const sorted = [...features.entries()]
    .map(([name, policy]) => ({ name, policy }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...cpu, features: sorted };
}

export type CompareResult = 'identical' | 'superset' | 'incompatible';

export interface CompareOutcome {
  result: CompareResult;
  /** Why it is incompatible, in libvirt's words ("Host CPU does not provide required features: …"). */
  message?: string;
  /** Features the guest needs that the host lacks. */
  missingFeatures: string[];
}

/** Whether `host` can run `guest` (x86Compute). */
export function compareX86(host: X86CpuDef, guest: X86CpuDef, map: X86CpuMap): CompareOutcome {
  if (guest.arch !== undefined && guest.arch !== 'x86_64' && guest.arch !== 'i686') {
    return {
      result: 'incompatible',
      message: `CPU arch ${guest.arch} does not match host arch`,
      missingFeatures: [],
    };
  }
  if (guest.vendor !== undefined && host.vendor !== guest.vendor) {
    return {
      result: 'incompatible',
      message: `host CPU vendor does not match required CPU vendor ${guest.vendor}`,
      missingFeatures: [],
    };
  }
  const hostData = cpuData(host, map, 'all');
  const force = cpuData(guest, map, 'force');
  const require = cpuData(guest, map, 'require');
  const optional = cpuData(guest, map, 'optional');
  const disable = cpuData(guest, map, 'disable');
  const forbid = cpuData(guest, map, 'forbid').intersect(hostData);
  if (!forbid.isEmpty()) {
    const names = featureNames(forbid, map);
    return {
      result: 'incompatible',
      message: `Host CPU provides forbidden features: ${names.join(', ')}`,
      missingFeatures: [],
    };
  }
  require.subtract(force).subtract(optional).subtract(disable);
  // Forced features are given to the guest whatever the host has, so they are not needed here.
  const missing = require.copy().subtract(hostData);
  if (!missing.isEmpty()) {
    const names = featureNames(missing, map);
    return {
      result: 'incompatible',
      message: `Host CPU does not provide required features: ${names.join(', ')}`,
      missingFeatures: names,
    };
  }
  const diff = hostData
    .copy()
    .subtract(optional)
    .subtract(require)
    .subtract(disable)
    .subtract(force);
  if (diff.isEmpty()) return { result: 'identical', missingFeatures: [] };
  if (guest.type === 'guest' && guest.match === 'strict') {
    return {
      result: 'incompatible',
      message: `Host CPU does not strictly match guest CPU: Extra features: ${featureNames(diff, map).join(', ')}`,
      missingFeatures: [],
    };
  }
  return { result: 'superset', missingFeatures: [] };
}
