/**
 * Test hosts for the fleet CPU unit tests: host-model CPUs decoded from QEMU 7.2's recorded
 * facts (TCG), as a testbed host without and with a cpu_limit offers them, and members that
 * judge guests with the real CPU check as such a host's ferryd would.
 * @module
 */
import { readFileSync } from 'node:fs';
import { x86CpuMap } from '../cpu/cpu-map.js';
import { checkGuestCpu } from '../cpu/guest-check.js';
import {
  type CpuLimit,
  decodeHostModel,
  hypervisorModels,
  toHostCpuModel,
} from '../cpu/host-cpu.js';
import type { QemuHostFacts } from '../qemu/probe.js';
import type { HostCpuModel } from '../rpc/schema/cpu.js';
import type { CpuMember, MemberGuest } from './cpu-baseline.js';

export const map = x86CpuMap();
export const facts = JSON.parse(
  readFileSync(new URL('../cpu/fixtures/qemu-7.2-tcg-facts.json', import.meta.url), 'utf8'),
) as QemuHostFacts;
export const models = hypervisorModels(facts, map);

/** The host-model CPU of a TCG host, capped by `limit` (a cpu_limit model) when given. */
export function hostCpu(limit?: string): HostCpuModel {
  const cap: CpuLimit | undefined =
    limit === undefined ? undefined : { model: limit, features: [] };
  return toHostCpuModel(decodeHostModel(facts, map, cap));
}

/** A member kept in memory: its guests' XML by name, `defined` records each define. */
export class FakeMember implements CpuMember {
  readonly defined: string[] = [];
  readonly #cpu: HostCpuModel;
  readonly #limited: boolean;
  readonly #guests: MemberGuest[];

  constructor(
    readonly host: string,
    limit: string | undefined,
    guests: MemberGuest[] = [],
  ) {
    this.#cpu = hostCpu(limit);
    this.#limited = limit !== undefined;
    this.#guests = guests;
  }

  hostModel(): Promise<HostCpuModel> {
    return Promise.resolve(this.#cpu);
  }

  checkGuest(
    ...[cpu, source]: Parameters<CpuMember['checkGuest']>
  ): ReturnType<CpuMember['checkGuest']> {
    return Promise.resolve(
      checkGuestCpu(cpu, {
        map,
        here: this.#cpu,
        source,
        knownModels: new Set(facts.cpuDefinitions.map((d) => d.name)),
        // As X86CpuService: under TCG only a cpu_limit binds the vendor.
        vendorBinds: this.#limited,
      }),
    );
  }

  guests(): Promise<MemberGuest[]> {
    return Promise.resolve(this.#guests);
  }

  inactiveXml(name: string): Promise<string> {
    const g = this.#guests.find((x) => x.name === name);
    if (g === undefined) return Promise.reject(new Error(`no guest ${name}`));
    return Promise.resolve(g.xml);
  }

  define(xml: string): Promise<void> {
    this.defined.push(xml);
    return Promise.resolve();
  }
}

/** A small domain definition with `cpu` (XML text, or none) for member guests. */
export function domainXml(name: string, cpu: string | undefined): string {
  return [
    `<domain type='qemu'>`,
    `  <name>${name}</name>`,
    `  <uuid>5a1e0000-0000-4000-8000-${name
      .padStart(12, '0')
      .slice(-12)
      .replace(/[^0-9a-f]/g, 'a')}</uuid>`,
    `  <memory unit='KiB'>131072</memory>`,
    `  <vcpu placement='static'>1</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='pc'>hvm</type>`,
    `  </os>`,
    ...(cpu === undefined ? [] : [`  ${cpu}`]),
    `  <clock offset='utc'/>`,
    `  <devices>`,
    `    <emulator>/usr/bin/qemu-system-x86_64</emulator>`,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}
