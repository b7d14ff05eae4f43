/**
 * The fleet's CPU arithmetic, pure: the baseline of the members' host-model CPUs (libvirt's x86
 * baseline, as `hypervisor-cpu-baseline` computes it for a file of domcapabilities), and the
 * host × host matrix of whose host-model CPU another host cannot run, with the features missing.
 * @module
 */
import type { X86CpuMap } from '../cpu/cpu-map.js';
import { formatGuestCpuXml } from '../cpu/cpu-xml.js';
import { type BaselineCpu, baselineX86, compareX86 } from '../cpu/x86-baseline.js';
import { type X86CpuDef, cpuData } from '../cpu/x86-cpu.js';
import { type HypervisorModels, decodeX86 } from '../cpu/x86-decode.js';
import type { CpuDef } from '../domain/def.js';
import { FerryError, messageOf } from '../common/errors.js';
import type { HostCpuModel } from '../rpc/schema/cpu.js';

/** A member's host-model CPU, named by the member's host name. */
export interface MemberCpu {
  host: string;
  cpu: HostCpuModel;
}

export interface MatrixEntry {
  /** The host whose host-model CPU would move … */
  from: string;
  /** … to this host. */
  to: string;
  ok: boolean;
  missing: string[];
}

/** A host-model CPU as a guest CPU definition (domcapabilities' `<mode name='host-model'>`). */
export function hostCpuDef(h: HostCpuModel, withVendor: boolean): X86CpuDef {
  return {
    type: 'guest',
    model: h.model,
    ...(withVendor && h.vendor !== '' ? { vendor: h.vendor } : {}),
    features: h.features.map((f) => ({ name: f.name, policy: f.policy })),
  };
}

/**
 * The baselines to try, best first. Hosts of one vendor: exactly hypervisor-cpu-baseline's
 * answer. Hosts of several vendors (libvirt: "CPU vendors do not match"): under TCG a host
 * emulates either vendor unless a cpu_limit binds it, so the features alone are baselined into
 * a model of each vendor in turn (the vendor of most hosts first); the members' own CPU check
 * decides which one every member can run.
 * @throws {FerryError} OPERATION_FAILED when no baseline can be computed at all.
 */
export function baselineCandidates(
  hosts: MemberCpu[],
  map: X86CpuMap,
  models: HypervisorModels,
): BaselineCpu[] {
  const vendors = vendorsByCount(hosts);
  if (vendors.length <= 1) {
    const cpu = baselineX86(
      hosts.map((h) => hostCpuDef(h.cpu, true)),
      map,
      { models },
    );
    return [{ ...cpu, fallback: 'forbid' }];
  }
  const out: BaselineCpu[] = [];
  const errors: string[] = [];
  for (const vendor of vendors) {
    try {
      out.push(vendorBaseline(hosts, vendor, map, models));
    } catch (err) {
      errors.push(`${vendor}: ${messageOf(err)}`);
    }
  }
  if (out.length === 0)
    throw new FerryError('OPERATION_FAILED', `No baseline CPU: ${errors.join('; ')}`);
  return out;
}

/**
 * The baseline of the hosts' features alone (their models imply vendors, which libvirt's
 * baseline would find to differ), decoded into a model of `vendor` that QEMU offers; the
 * vendor's hosts' models are the preferred names, as hypervisor-cpu-baseline prefers its
 * inputs' models. No `<vendor>`: the model implies it.
 */
function vendorBaseline(
  hosts: MemberCpu[],
  vendor: string,
  map: X86CpuMap,
  models: HypervisorModels,
): BaselineCpu {
  const [first, ...rest] = hosts;
  if (first === undefined) throw new FerryError('INVALID_ARG', 'No CPU definitions to baseline');
  const base = cpuData(hostCpuDef(first.cpu, false), map, 'all');
  for (const h of rest) base.intersect(cpuData(hostCpuDef(h.cpu, false), map, 'all'));
  if (base.isEmpty()) throw new FerryError('OPERATION_FAILED', 'CPUs are incompatible');
  const vendorData = map.vendors.find((v) => v.name === vendor)?.data;
  if (vendorData !== undefined) base.add(vendorData);
  const ofVendor: HypervisorModels = new Map(
    [...models].filter(([name]) => map.modelByName.get(name)?.vendor?.name === vendor),
  );
  const preferred = [
    ...new Set(hosts.filter((h) => h.cpu.vendor === vendor).map((h) => h.cpu.model)),
  ];
  const decoded = decodeX86(base, map, { type: 'guest', models: ofVendor, preferred });
  return { model: decoded.model, fallback: 'forbid', features: decoded.features };
}

/** Distinct vendors, the most common first (ties: the first host's first). */
function vendorsByCount(hosts: MemberCpu[]): string[] {
  const counts = new Map<string, number>();
  for (const h of hosts)
    if (h.cpu.vendor !== '') counts.set(h.cpu.vendor, (counts.get(h.cpu.vendor) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([v]) => v);
}

/** The baseline as the domain `<cpu>` it becomes. */
export function baselineCpuDef(cpu: BaselineCpu): CpuDef {
  return {
    mode: 'custom',
    match: 'exact',
    model: { name: cpu.model, fallback: cpu.fallback },
    ...(cpu.vendor === undefined ? {} : { vendor: cpu.vendor }),
    features: cpu.features.map((f) => ({ name: f.name, policy: f.policy })),
    extra: [],
  };
}

/** `<cpu mode='custom' match='exact'>…</cpu>` as hypervisor-cpu-baseline prints it. */
export function baselineXml(cpu: BaselineCpu): string {
  return formatGuestCpuXml(cpu);
}

/**
 * For every ordered pair of different hosts: can `from`'s host-model CPU run on `to`, and if
 * not, the features `to` lacks. Features only: whether a vendor binds is each host's own
 * business (KVM or cpu_limit), which the guests' checks ask the members themselves.
 */
export function hostMatrix(hosts: MemberCpu[], map: X86CpuMap): MatrixEntry[] {
  const out: MatrixEntry[] = [];
  for (const from of hosts) {
    for (const to of hosts) {
      if (from === to) continue;
      const outcome = compareX86(hostCpuDef(to.cpu, false), hostCpuDef(from.cpu, false), map);
      out.push({
        from: from.host,
        to: to.host,
        ok: outcome.result !== 'incompatible',
        missing: outcome.missingFeatures,
      });
    }
  }
  return out;
}
