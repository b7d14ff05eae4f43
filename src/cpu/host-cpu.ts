/**
 * This host's CPU in cpu_map terms: what QEMU can give guests here (the `max` model's
 * expansion, decoded as libvirt decodes it for domcapabilities' host-model), the physical CPU
 * (/proc/cpuinfo, for capabilities), and the admin's cpu_limit that caps what this host offers.
 * @module
 */
import { readFileSync } from 'node:fs';
import { FerryError } from '../common/errors.js';
import type { QemuHostFacts } from '../qemu/probe.js';
import type { HostCpuModel } from '../rpc/schema/cpu.js';
import { type X86CpuMap, canonicalFeatureName } from './cpu-map.js';
import { cpuData, findModel } from './x86-cpu.js';
import { X86Data, makeSignature } from './x86-data.js';
import { type DecodedCpu, type HypervisorModels, decodeX86 } from './x86-decode.js';

/** An admin's cap on this host's CPU: a cpu_map model plus '+feat' / '-feat' adjustments. */
export interface CpuLimit {
  model: string;
  features: string[];
}

/** The cpu_map models QEMU knows, each with the features that keep it from running here. */
export function hypervisorModels(facts: QemuHostFacts, map: X86CpuMap): HypervisorModels {
  const out: HypervisorModels = new Map();
  for (const d of facts.cpuDefinitions) {
    if (!map.modelByName.has(d.name)) continue;
    const blockers = d.unavailableFeatures
      .map((f) => canonicalFeatureName(map, f))
      .filter((f): f is string => f !== undefined);
    out.set(d.name, { blockers });
  }
  return out;
}

/** The CPU data of QEMU's `max` model: its enabled features, vendor and signature. */
export function maxCpuData(facts: QemuHostFacts, map: X86CpuMap): X86Data {
  const props = facts.maxCpu.props;
  const data = new X86Data();
  for (const [name, value] of Object.entries(props)) {
    if (value !== true) continue;
    const canonical = canonicalFeatureName(map, name);
    const feature = canonical === undefined ? undefined : map.featureByName.get(canonical);
    if (feature !== undefined) data.add(feature.data);
  }
  const vendor = map.vendors.find((v) => v.string === props.vendor);
  if (vendor !== undefined) data.add(vendor.data);
  const { family, model, stepping } = props;
  if (typeof family === 'number' && typeof model === 'number' && typeof stepping === 'number') {
    const leaf1 = X86Data.cpuidKey(1, 0);
    const regs = data.items.get(leaf1) ?? [0, 0, 0, 0];
    regs[0] = makeSignature(family, model, stepping);
    data.setItem(leaf1, regs);
  }
  return data;
}

/** The data a cpu_limit allows, with the limit model's vendor. */
export function limitData(limit: CpuLimit, map: X86CpuMap): X86Data {
  const features = limit.features.map((f) => {
    const sign = f.startsWith('-') ? 'disable' : 'require';
    return { name: f.replace(/^[+-]/, ''), policy: sign } as const;
  });
  const data = cpuData({ type: 'guest', model: limit.model, features }, map, 'all');
  const vendor = findModel(map, limit.model).vendor;
  if (vendor !== undefined) data.add(vendor.data);
  return data;
}

/** Checks a cpu_limit against the map; the message names the bad part. */
export function validateCpuLimit(limit: CpuLimit, map: X86CpuMap): void {
  if (!map.modelByName.has(limit.model)) {
    throw new FerryError('CONFIG_UNSUPPORTED', `cpu_limit: unknown CPU model '${limit.model}'`);
  }
  for (const f of limit.features) {
    if (!/^[+-]/.test(f)) {
      throw new FerryError(
        'CONFIG_UNSUPPORTED',
        `cpu_limit_features: '${f}' must start with + or -`,
      );
    }
    if (!map.featureByName.has(f.slice(1))) {
      throw new FerryError(
        'CONFIG_UNSUPPORTED',
        `cpu_limit_features: unknown CPU feature '${f.slice(1)}'`,
      );
    }
  }
}

/**
 * What this host offers guests, decoded (domcapabilities' host-model): QEMU's `max` CPU, capped
 * by `limit` when the admin set one (then the vendor is the limit model's).
 */
export function hostModelData(facts: QemuHostFacts, map: X86CpuMap, limit?: CpuLimit): X86Data {
  const max = maxCpuData(facts, map);
  if (limit === undefined) return max;
  const capped = limitData(limit, map);
  const leaf0 = X86Data.cpuidKey(0, 0);
  // Copied: intersect() clears the leaf in place, and the vendor is the limit's, not QEMU's.
  const limitVendor = capped.items.get(leaf0);
  const vendor = limitVendor === undefined ? undefined : [...limitVendor];
  capped.intersect(max);
  if (vendor !== undefined) capped.setItem(leaf0, vendor);
  return capped;
}

export function decodeHostModel(
  facts: QemuHostFacts,
  map: X86CpuMap,
  limit?: CpuLimit,
): DecodedCpu {
  return decodeX86(hostModelData(facts, map, limit), map, {
    type: 'guest',
    models: hypervisorModels(facts, map),
    migratable: true,
  });
}

export function toHostCpuModel(d: DecodedCpu): HostCpuModel {
  return {
    arch: 'x86_64',
    vendor: d.vendor ?? '',
    model: d.model,
    features: d.features.map((f) => ({
      name: f.name,
      policy: f.policy === 'disable' ? ('disable' as const) : ('require' as const),
    })),
  };
}

export interface PhysicalCpu {
  decoded: DecodedCpu;
  modelName: string;
  family: number;
  model: number;
  stepping: number;
}

/** The physical CPU from /proc/cpuinfo text, decoded as a host CPU (capabilities' `<cpu>`). */
export function physicalCpuFromCpuinfo(text: string, map: X86CpuMap): PhysicalCpu {
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const field = (name: string): string =>
    new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(first)?.[1]?.trim() ?? '';
  const data = new X86Data();
  for (const flag of field('flags').split(/\s+/)) {
    const canonical = canonicalFeatureName(map, flag);
    const feature = canonical === undefined ? undefined : map.featureByName.get(canonical);
    if (feature !== undefined) data.add(feature.data);
  }
  const vendor = map.vendors.find((v) => v.string === field('vendor_id'));
  if (vendor !== undefined) data.add(vendor.data);
  const family = Number(field('cpu family')) || 0;
  const model = Number(field('model')) || 0;
  const stepping = Number(field('stepping')) || 0;
  const leaf1 = X86Data.cpuidKey(1, 0);
  const regs = data.items.get(leaf1) ?? [0, 0, 0, 0];
  regs[0] = makeSignature(family, model, stepping);
  data.setItem(leaf1, regs);
  return {
    decoded: decodeX86(data, map, { type: 'host' }),
    modelName: field('model name'),
    family,
    model,
    stepping,
  };
}

export function readCpuinfo(): string {
  return readFileSync('/proc/cpuinfo', 'utf8');
}
