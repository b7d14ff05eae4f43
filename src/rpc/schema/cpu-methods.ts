/**
 * The CPU and host-capability RPC methods (virsh capabilities, domcapabilities,
 * [hypervisor-]cpu-baseline, [hypervisor-]cpu-compare), merged into METHODS.
 * @module
 */
import { z } from 'zod';
import { CpuCheckOutcome, HostCpuModel } from './cpu.js';

const VirtType = z.enum(['qemu', 'kvm']);
const Xml = z
  .string()
  .min(1, 'XML document is empty')
  .max(4 * 1024 * 1024);
const FileName = z.string().min(1).max(4096);

/** A domain's `<cpu>` as the CPU check reads it (CpuDef without the XML it does not model). */
export const GuestCpu = z.strictObject({
  mode: z.enum(['custom', 'host-model', 'host-passthrough', 'maximum']),
  match: z.enum(['minimum', 'exact', 'strict']).optional(),
  model: z
    .strictObject({
      name: z.string().min(1).max(128),
      fallback: z.enum(['allow', 'forbid']).optional(),
    })
    .optional(),
  vendor: z.string().max(64).optional(),
  features: z
    .array(
      z.strictObject({
        policy: z.enum(['force', 'require', 'optional', 'disable', 'forbid']),
        name: z.string().min(1).max(64),
      }),
    )
    .max(1024),
});
export type GuestCpu = z.output<typeof GuestCpu>;

export const CPU_METHODS = {
  'host.capabilities': {
    doc: "virsh capabilities: this host's physical CPU, NUMA cells, and the guests it can run (arch, machine types, domain types).",
    params: z.strictObject({}),
    result: z.strictObject({ xml: z.string() }),
  },
  'host.domcapabilities': {
    doc: "virsh domcapabilities: what a guest of this machine type and virt type can have here, with the CPU modes (host-model as this host offers it, under cpu_limit if set) and the custom models' usability.",
    params: z.strictObject({
      machine: z.string().min(1).max(128).optional(),
      virttype: VirtType.optional(),
      arch: z.string().min(1).max(32).optional(),
    }),
    result: z.strictObject({ xml: z.string() }),
  },
  'cpu.hostModel': {
    doc: "This host's CPU in host-model form (what a migration's source sends the destination).",
    params: z.strictObject({}),
    result: HostCpuModel,
  },
  'cpu.baseline': {
    doc: "virsh cpu-baseline / hypervisor-cpu-baseline: the most capable CPU all the given CPUs can run (libvirt's x86 baseline). hypervisor: only models and features QEMU here knows.",
    params: z.strictObject({
      xml: Xml,
      fileName: FileName,
      hypervisor: z.boolean(),
      features: z.boolean(),
      migratable: z.boolean(),
      virttype: VirtType.optional(),
      arch: z.string().min(1).max(32).optional(),
      machine: z.string().min(1).max(128).optional(),
    }),
    result: z.strictObject({ xml: z.string() }),
  },
  'cpu.compare': {
    doc: "virsh cpu-compare / hypervisor-cpu-compare: whether this host's CPU (hypervisor: what QEMU here offers guests) can run the first CPU in the file.",
    params: z.strictObject({
      xml: Xml,
      fileName: FileName,
      hypervisor: z.boolean(),
      virttype: VirtType.optional(),
    }),
    result: z.strictObject({
      result: z.enum(['identical', 'superset', 'incompatible']),
      message: z.string().optional(),
      missingFeatures: z.array(z.string()),
    }),
  },
  'cpu.checkGuest': {
    doc: "Whether this host could run a guest whose CPU is `cpu` (null: QEMU's default) and that runs now on a host with CPU `sourceCpu`: the CPU check a migration's destination makes, changing nothing (fleet cpu-baseline asks every member).",
    params: z.strictObject({
      cpu: GuestCpu.nullable(),
      sourceCpu: HostCpuModel,
    }),
    result: CpuCheckOutcome,
  },
} as const;

export type CpuMethodName = keyof typeof CPU_METHODS;
