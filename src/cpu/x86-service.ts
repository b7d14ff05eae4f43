/**
 * The real CpuService: this host's CPU from QEMU's `max` model (capped by ferryd.conf's
 * cpu_limit), cpu_map as data, and libvirt's rules for whether a guest CPU can run here.
 * @module
 */
import type { CpuDef } from '../domain/def.js';
import type { QemuHostFacts } from '../qemu/probe.js';
import type { CpuCheckOutcome, HostCpuModel } from '../rpc/schema/cpu.js';
import { type X86CpuMap, x86CpuMap } from './cpu-map.js';
import { checkGuestCpu } from './guest-check.js';
import { type CpuLimit, decodeHostModel, toHostCpuModel, validateCpuLimit } from './host-cpu.js';
import type { CpuService } from './service.js';

export interface X86CpuServiceOptions {
  /** QEMU's facts for this host's binary and accelerator (cached by qemuHostFacts). */
  facts: () => Promise<QemuHostFacts>;
  /** ferryd.conf cpu_limit / cpu_limit_features. */
  limit?: CpuLimit | undefined;
  /** The CPU map directory (default /usr/share/libvirt/cpu_map). */
  mapDir?: string;
}

export class X86CpuService implements CpuService {
  readonly #opts: X86CpuServiceOptions;
  #host: Promise<HostCpuModel> | undefined;

  constructor(opts: X86CpuServiceOptions) {
    this.#opts = opts;
    if (opts.limit !== undefined) validateCpuLimit(opts.limit, this.map());
  }

  map(): X86CpuMap {
    return x86CpuMap(this.#opts.mapDir);
  }

  get limit(): CpuLimit | undefined {
    return this.#opts.limit;
  }

  facts(): Promise<QemuHostFacts> {
    return this.#opts.facts();
  }

  hostModel(): Promise<HostCpuModel> {
    this.#host ??= this.#opts
      .facts()
      .then((facts) => toHostCpuModel(decodeHostModel(facts, this.map(), this.#opts.limit)));
    // A failed probe is not remembered: QEMU may be fixed without restarting ferryd.
    this.#host.catch(() => (this.#host = undefined));
    return this.#host;
  }

  checkGuest(cpu: CpuDef | undefined, source: HostCpuModel): Promise<CpuCheckOutcome> {
    return this.check(cpu, source, 'destination');
  }

  /** checkGuest, naming this host 'destination' (a migration) or 'host' (a start). */
  async check(
    cpu: CpuDef | undefined,
    source: HostCpuModel,
    hostLabel: 'destination' | 'host',
  ): Promise<CpuCheckOutcome> {
    const facts = await this.#opts.facts();
    const here = await this.hostModel();
    return checkGuestCpu(cpu, {
      map: this.map(),
      here,
      source,
      knownModels: new Set(facts.cpuDefinitions.map((d) => d.name)),
      vendorBinds: facts.accel === 'kvm' || this.#opts.limit !== undefined,
      hostLabel,
    });
  }
}
