/**
 * Names CPU data with the best cpu_map model plus feature deltas, exactly as libvirt 9's
 * x86Decode / x86DecodeUseCandidate do: models are tried newest first; a model that matches
 * the CPU's signature beats one that does not; otherwise the one needing fewest explicit
 * features wins (ties keep the newer); a preferred model ends the search.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { X86CpuMap, X86Model, X86Vendor } from './cpu-map.js';
import { type X86CpuDef, type X86CpuFeature, featuresIn } from './x86-cpu.js';
import { X86Data, signatureParts } from './x86-data.js';

/** What the hypervisor offers: allowed model names and each one's blocking features. */
export type HypervisorModels = Map<string, { blockers: string[] }>;

export interface DecodeOptions {
  /** 'host' decodes a host CPU: only decode-host models, and none that needs a disabled feature. */
  type: 'host' | 'guest';
  /** When set, only these models are candidates (domcapabilities' custom models). */
  models?: HypervisorModels;
  /** The inputs' model names: one alone is used if it is a candidate at all; several are favoured. */
  preferred?: string[];
  /** Drop features libvirt marks migratable='no'. */
  migratable?: boolean;
}

export interface DecodedCpu {
  model: string;
  vendor?: string;
  features: X86CpuFeature[];
}

const LEAF1 = X86Data.cpuidKey(1, 0);
const LEAF0 = X86Data.cpuidKey(0, 0);
const SIGNATURE_MASK = 0x0fff3fff;

export function vendorOfData(data: X86Data, map: X86CpuMap): X86Vendor | undefined {
  const leaf0 = data.items.get(LEAF0);
  if (leaf0 === undefined) return undefined;
  return map.vendors.find((v) => {
    const want = v.data.items.get(LEAF0) ?? [];
    return want[1] === leaf0[1] && want[2] === leaf0[2] && want[3] === leaf0[3];
  });
}

function signatureOf(data: X86Data): number {
  return ((data.items.get(LEAF1)?.[0] ?? 0) & SIGNATURE_MASK) >>> 0;
}

function signatureMatches(model: X86Model, sig: number): boolean {
  const { family, model: num, stepping } = signatureParts(sig);
  return model.signatures.some(
    (s) => s.family === family && s.model === num && (s.steppings?.has(stepping) ?? true),
  );
}

/** Data without vendor string and signature: only feature bits. */
function featureBits(data: X86Data): X86Data {
  const out = data.copy();
  out.items.delete(LEAF0);
  const leaf1 = out.items.get(LEAF1);
  if (leaf1 !== undefined) leaf1[0] = 0;
  return out;
}

/** libvirt's x86DataToCPU: `model` plus what `data` has beyond it, minus what it lacks. */
function candidateFor(
  data: X86Data,
  model: X86Model,
  map: X86CpuMap,
  blockers: string[],
  type: 'host' | 'guest',
): X86CpuFeature[] {
  const extra = data.copy().subtract(model.data);
  const missing = model.data.copy().subtract(data);
  for (const name of blockers) {
    const f = map.featureByName.get(name);
    if (f !== undefined && !extra.hasAll(f.data)) missing.add(f.data);
  }
  const features: X86CpuFeature[] = [
    ...featuresIn(extra, map).map((name) => ({ name, policy: 'require' as const })),
    ...featuresIn(missing, map).map((name) => ({ name, policy: 'disable' as const })),
  ];
  if (type === 'guest') {
    for (const name of model.removedFeatures) {
      if (!features.some((f) => f.name === name)) features.push({ name, policy: 'disable' });
    }
  }
  return features;
}

/** Base penalty of a disabled feature; each further one costs one more (libvirt's BASE_PENALTY). */
const BASE_PENALTY = 2;

/**
 * libvirt's weight of a candidate's feature list. Its loop runs to a bound it lowers on each
 * disabled feature, so trailing features past that bound are not looked at; that is kept on
 * purpose, because it decides which model libvirt names (n270 over kvm32, for one).
 */
function weigh(
  features: X86CpuFeature[],
  type: 'host' | 'guest',
): { total: number; disabled: number } {
  if (type === 'host') return { total: features.length, disabled: 0 };
  let enabled = features.length;
  let disabled = 0;
  let penalty = BASE_PENALTY;
  for (let i = 0; i < enabled; i++) {
    if (features[i]?.policy === 'disable') {
      enabled--;
      disabled += penalty++;
    }
  }
  return { total: enabled + disabled, disabled };
}

/** virCPUx86CompareCandidateFeatureList: the lighter list wins; fewer disabled breaks a tie. */
function candidateIsBetter(
  current: X86CpuFeature[],
  candidate: X86CpuFeature[],
  type: 'host' | 'guest',
  isPreferred: boolean,
): boolean {
  const cur = weigh(current, type);
  const cand = weigh(candidate, type);
  if (cand.total < cur.total || (cand.total === cur.total && cand.disabled < cur.disabled))
    return true;
  return isPreferred && cand.disabled < cur.disabled;
}

/** Names `data` (vendor and signature included, as CPUID gives them). */
export function decodeX86(data: X86Data, map: X86CpuMap, opts: DecodeOptions): DecodedCpu {
  const vendor = vendorOfData(data, map);
  const signature = signatureOf(data);
  const bits = featureBits(data);
  dropBrokenTsx(bits, vendor, signature, map);
  let best: { model: X86Model; features: X86CpuFeature[] } | undefined;
  for (let i = map.models.length - 1; i >= 0; i--) {
    const candidate = map.models[i];
    if (candidate === undefined) continue;
    const hv = opts.models?.get(candidate.name);
    if (opts.models !== undefined && hv === undefined) continue;
    if (vendor !== undefined && candidate.vendor !== undefined && vendor !== candidate.vendor) {
      continue;
    }
    if (opts.type === 'host' ? !candidate.decodeHost : !candidate.decodeGuest) continue;
    const features = candidateFor(bits, candidate, map, hv?.blockers ?? [], opts.type);
    if (opts.type === 'host' && features.some((f) => f.policy === 'disable')) continue;
    const isPreferred = opts.preferred?.includes(candidate.name) ?? false;
    if (isPreferred && opts.preferred?.length === 1) {
      best = { model: candidate, features };
      break;
    }
    if (best === undefined) {
      best = { model: candidate, features };
      continue;
    }
    if (signature !== 0) {
      const bestMatches = signatureMatches(best.model, signature);
      const candMatches = signatureMatches(candidate, signature);
      if (bestMatches && !candMatches) continue;
      if (!bestMatches && candMatches) {
        best = { model: candidate, features };
        continue;
      }
    }
    if (candidateIsBetter(best.features, features, opts.type, isPreferred)) {
      best = { model: candidate, features };
    }
  }
  if (best === undefined) {
    throw new FerryError('INTERNAL_ERROR', 'Cannot find suitable CPU model for given data');
  }
  let features = best.features;
  if (opts.migratable === true) {
    features = features.filter((f) => map.featureByName.get(f.name)?.migratable !== false);
  }
  return {
    model: best.model.name,
    ...(vendor === undefined ? {} : { vendor: vendor.name }),
    features,
  };
}

/** Intel CPUs whose TSX is broken (x86DataFilterTSX): hle and rtm do not count. */
function dropBrokenTsx(
  bits: X86Data,
  vendor: X86Vendor | undefined,
  signature: number,
  map: X86CpuMap,
): void {
  if (vendor?.name !== 'Intel') return;
  const { family, model, stepping } = signatureParts(signature);
  if (family !== 6) return;
  if ((model === 63 && stepping < 4) || model === 60 || model === 69 || model === 70) {
    for (const name of ['hle', 'rtm']) {
      const f = map.featureByName.get(name);
      if (f !== undefined) bits.subtract(f.data);
    }
  }
}

/** A CPU definition (type 'guest') built from a decode result. */
export function decodedToDef(d: DecodedCpu, type: 'host' | 'guest' = 'guest'): X86CpuDef {
  return {
    type,
    model: d.model,
    ...(d.vendor === undefined ? {} : { vendor: d.vendor }),
    features: d.features,
  };
}
