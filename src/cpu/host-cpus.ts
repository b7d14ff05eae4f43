/**
 * The daemon's view of this host's CPUs: QEMU's facts per accelerator (cached on disk by
 * qemuHostFacts), the real CpuService, and the answers behind capabilities, domcapabilities,
 * baseline and compare. One per ferryd.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import { readNumaTopology } from '../host/numa.js';
import { type QemuHostFacts, qemuHostFacts, resolveMachine } from '../qemu/probe.js';
import type { HostCpuModel } from '../rpc/schema/cpu.js';
import { type CustomModel, formatCapabilitiesXml, formatDomCapabilitiesXml } from './caps-xml.js';
import { baselineCpuXml } from './baseline-xml.js';
import { cpuDefsFromText } from './cpu-xml.js';
import {
  type CpuLimit,
  decodeHostModel,
  hypervisorModels,
  physicalCpuFromCpuinfo,
  readCpuinfo,
  toHostCpuModel,
} from './host-cpu.js';
import { type CompareOutcome, compareX86 } from './x86-baseline.js';
import { cpuIncompatibleError } from './service.js';
import { X86CpuService } from './x86-service.js';
import type { X86CpuDef } from './x86-cpu.js';

export interface HostCpusOptions {
  qemuBinary: string;
  kvmDevice: string;
  cacheDir: string;
  hostUuid: string;
  limit?: CpuLimit | undefined;
  /** ferryd.conf cpu_virttype: the accelerator guests run with (default 'qemu', TCG). */
  virttype?: VirtType | undefined;
  mapDir?: string;
}

export type VirtType = 'qemu' | 'kvm';

export class HostCpus {
  readonly service: X86CpuService;
  readonly #opts: HostCpusOptions;

  constructor(opts: HostCpusOptions) {
    this.#opts = opts;
    this.service = new X86CpuService({
      facts: () => this.facts(this.defaultVirtType()),
      limit: opts.limit,
      ...(opts.mapDir === undefined ? {} : { mapDir: opts.mapDir }),
    });
  }

  get kvm(): boolean {
    return existsSync(this.#opts.kvmDevice);
  }

  /**
   * The virt type CPU answers are for unless a command names one: 'qemu' (TCG), which Ferry's
   * guests use (libvirt defaults to kvm where /dev/kvm exists; here it exists but guests cannot
   * use it, so kvm would describe CPUs nothing runs on). ferryd.conf cpu_virttype overrides.
   */
  defaultVirtType(): VirtType {
    return this.#opts.virttype ?? 'qemu';
  }

  facts(virttype: VirtType): Promise<QemuHostFacts> {
    if (virttype === 'kvm' && !this.kvm) {
      return Promise.reject(
        new FerryError(
          'CONFIG_UNSUPPORTED',
          `KVM is not available on this host (${this.#opts.kvmDevice})`,
        ),
      );
    }
    return qemuHostFacts(
      binaryPath(this.#opts.qemuBinary),
      virttype === 'kvm' ? 'kvm' : 'tcg',
      this.#opts.cacheDir,
    );
  }

  /** This host's host-model CPU under `virttype` (cpu_limit applied). */
  async hostModel(virttype?: VirtType): Promise<HostCpuModel> {
    if (virttype === undefined || virttype === this.defaultVirtType())
      return this.service.hostModel();
    return toHostCpuModel(
      decodeHostModel(await this.facts(virttype), this.service.map(), this.#opts.limit),
    );
  }

  /** Refuses to start a guest whose CPU this host does not offer (CPU_INCOMPATIBLE). */
  async checkStart(def: DomainDef): Promise<void> {
    const outcome = await this.service.check(def.cpu, await this.service.hostModel(), 'host');
    if (outcome.verdict === 'fail') throw cpuIncompatibleError(outcome);
  }

  async capabilitiesXml(): Promise<string> {
    const text = readCpuinfo();
    const physical = physicalCpuFromCpuinfo(text, this.service.map());
    return formatCapabilitiesXml({
      hostUuid: this.#opts.hostUuid,
      physical,
      topology: topologyOf(text),
      numa: readNumaTopology(),
      facts: await this.facts('qemu'),
      kvm: this.kvm,
    });
  }

  async domCapabilitiesXml(p: {
    machine?: string | undefined;
    virttype?: VirtType | undefined;
    arch?: string | undefined;
  }): Promise<string> {
    if (p.arch !== undefined && p.arch !== 'x86_64') {
      throw new FerryError(
        'CONFIG_UNSUPPORTED',
        `unsupported configuration: Emulator for arch '${p.arch}' is not available on this host`,
      );
    }
    const virttype = p.virttype ?? this.defaultVirtType();
    const facts = await this.facts(virttype);
    const machine = resolveMachine(facts, p.machine ?? 'pc');
    if (machine === undefined) {
      throw new FerryError(
        'INVALID_ARG',
        `invalid argument: the machine '${p.machine ?? 'pc'}' is not supported by emulator '${facts.binary}'`,
      );
    }
    const hostModel = await this.hostModel(virttype);
    return formatDomCapabilitiesXml({
      facts,
      virttype,
      machine: machine.name,
      hostModel,
      customModels: this.#customModels(facts, hostModel),
      kvm: this.kvm,
    });
  }

  /** QEMU's models that cpu_map knows, in QEMU's order; usable if QEMU can run it and cpu_limit allows. */
  #customModels(facts: QemuHostFacts, hostModel: HostCpuModel): CustomModel[] {
    const map = this.service.map();
    const host = hostAsGuestDef(hostModel);
    return facts.cpuDefinitions
      .filter((d) => map.modelByName.has(d.name))
      .map((d) => {
        const model = map.modelByName.get(d.name);
        let usable = d.unavailableFeatures.length === 0;
        if (usable && this.#opts.limit !== undefined) {
          usable =
            compareX86(host, { type: 'guest', model: d.name, features: [] }, map).result !==
            'incompatible';
        }
        return { name: d.name, usable, vendor: model?.vendor?.name ?? 'unknown' };
      });
  }

  async baselineXml(p: {
    xml: string;
    fileName: string;
    hypervisor: boolean;
    features: boolean;
    migratable: boolean;
    virttype?: VirtType | undefined;
    arch?: string | undefined;
  }): Promise<string> {
    if (p.arch !== undefined && p.arch !== 'x86_64' && p.arch !== 'i686') {
      throw new FerryError(
        'CONFIG_UNSUPPORTED',
        `unsupported configuration: CPU arch ${p.arch} is not supported`,
      );
    }
    const map = this.service.map();
    const models = p.hypervisor
      ? hypervisorModels(await this.facts(p.virttype ?? this.defaultVirtType()), map)
      : undefined;
    return baselineCpuXml({ ...p, models }, map);
  }

  async compare(p: {
    xml: string;
    fileName: string;
    hypervisor: boolean;
    virttype?: VirtType | undefined;
  }): Promise<CompareOutcome> {
    const map = this.service.map();
    const [guest] = cpuDefsFromText(p.xml, p.fileName);
    if (guest === undefined) throw new FerryError('INVALID_ARG', `No CPU in '${p.fileName}'`);
    const host: X86CpuDef = p.hypervisor
      ? hostAsGuestDef(await this.hostModel(p.virttype))
      : { type: 'host', arch: 'x86_64', ...physicalDef(this.service.map()) };
    return compareX86(host, guest, map);
  }
}

/** qemu_binary as a path: a bare name is looked up in PATH, as spawning it would. */
function binaryPath(binary: string): string {
  if (binary.includes('/')) return binary;
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, binary))) return join(dir, binary);
  }
  return binary;
}

function hostAsGuestDef(h: HostCpuModel): X86CpuDef {
  return {
    type: 'guest',
    model: h.model,
    ...(h.vendor === '' ? {} : { vendor: h.vendor }),
    features: h.features.map((f) => ({ name: f.name, policy: f.policy })),
  };
}

function physicalDef(map: ReturnType<X86CpuService['map']>): Omit<X86CpuDef, 'type' | 'arch'> {
  const d = physicalCpuFromCpuinfo(readCpuinfo(), map).decoded;
  return {
    model: d.model,
    ...(d.vendor === undefined ? {} : { vendor: d.vendor }),
    features: d.features,
  };
}

/** Sockets, cores per socket and threads per core from /proc/cpuinfo. */
function topologyOf(cpuinfo: string): { sockets: number; cores: number; threads: number } {
  const blocks = cpuinfo.split(/\n\s*\n/).filter((b) => b.includes('processor'));
  const field = (b: string, n: string): string =>
    new RegExp(`^${n}\\s*:\\s*(.*)$`, 'm').exec(b)?.[1]?.trim() ?? '';
  const sockets = new Set(blocks.map((b) => field(b, 'physical id'))).size || 1;
  const cores =
    Number(field(blocks[0] ?? '', 'cpu cores')) || Math.max(1, Math.floor(blocks.length / sockets));
  const threads = Math.max(1, Math.floor(blocks.length / (sockets * cores)));
  return { sockets, cores, threads };
}
