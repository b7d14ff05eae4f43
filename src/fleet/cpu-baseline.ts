/**
 * `fleet.cpuBaseline`: the CPU every fleet member can run (what VMware calls EVC), which host's
 * CPU another cannot run, which guests some member could not take, and, on request, the
 * baseline written into guests' definitions. Members are reached through {@link CpuMember}
 * (this ferryd in process, the others over peer connections); each member judges guests with
 * its own CPU check (the one a migration's destination makes), so the answer agrees with the
 * migrations it predicts.
 * @module
 */
import type { X86CpuMap } from '../cpu/cpu-map.js';
import type { BaselineCpu } from '../cpu/x86-baseline.js';
import type { HypervisorModels } from '../cpu/x86-decode.js';
import type { CpuDef } from '../domain/def.js';
import { parseDomainXml } from '../domain/xml/index.js';
import { FerryError, messageOf } from '../common/errors.js';
import type { CpuCheckOutcome, HostCpuModel } from '../rpc/schema/cpu.js';
import {
  type MatrixEntry,
  type MemberCpu,
  baselineCandidates,
  baselineCpuDef,
  baselineXml,
  hostMatrix,
} from './cpu-matrix.js';
import { withCpu } from './cpu-xml-edit.js';

/** A guest as a member lists it, with the definition its CPU is judged by. */
export interface MemberGuest {
  name: string;
  persistent: boolean;
  active: boolean;
  /** The live definition while active (the CPU it runs with), the persistent one otherwise. */
  xml: string;
}

/** What fleet cpu-baseline needs of one member. */
export interface CpuMember {
  /** Its host name (host.info), the name the answer uses. */
  host: string;
  hostModel(): Promise<HostCpuModel>;
  /** The member's CPU check of a guest CPU running now on a host with CPU `source`. */
  checkGuest(cpu: CpuDef | undefined, source: HostCpuModel): Promise<CpuCheckOutcome>;
  guests(): Promise<MemberGuest[]>;
  /** The persistent definition of a guest (domain.getXml inactive). */
  inactiveXml(name: string): Promise<string>;
  define(xml: string): Promise<void>;
}

export interface GuestProblem {
  guest: string;
  host: string;
  cannotRunOn: { host: string; reason: string }[];
}

export interface FleetCpuBaseline {
  cpuXml: string;
  model: string;
  hosts: { host: string; model: string }[];
  matrix: MatrixEntry[];
  guests: GuestProblem[];
  applied: { guest: string; host: string }[];
}

export interface FleetCpuBaselineInput {
  members: CpuMember[];
  map: X86CpuMap;
  /** The models this host's QEMU offers (hypervisor-cpu-baseline's candidates). */
  models: HypervisorModels;
  /** Guests (names) to give the baseline CPU in their persistent definition. */
  apply?: string[];
}

interface Gathered {
  member: CpuMember;
  cpu: HostCpuModel;
  guests: MemberGuest[];
}

/** See the module doc. Bad `apply` names change nothing. */
export async function fleetCpuBaseline(input: FleetCpuBaselineInput): Promise<FleetCpuBaseline> {
  const gathered: Gathered[] = await Promise.all(
    input.members.map(async (member) => {
      const [cpu, guests] = await Promise.all([member.hostModel(), member.guests()]);
      return { member, cpu, guests };
    }),
  );
  const hosts: MemberCpu[] = gathered.map((g) => ({ host: g.member.host, cpu: g.cpu }));
  const targets = toApply(gathered, input.apply ?? []);
  const baseline = await chooseBaseline(
    gathered,
    baselineCandidates(hosts, input.map, input.models),
  );
  const cpuXml = baselineXml(baseline);
  const guests = (await Promise.all(gathered.map((g) => guestProblems(g, gathered)))).flat();
  const applied: { guest: string; host: string }[] = [];
  for (const { member, guest } of targets) {
    const xml = withCpu(await member.inactiveXml(guest.name), cpuXml);
    await member.define(xml);
    applied.push({ guest: guest.name, host: member.host });
  }
  return {
    cpuXml,
    model: baseline.model,
    hosts: hosts.map((h) => ({ host: h.host, model: h.cpu.model })),
    matrix: hostMatrix(hosts, input.map),
    guests,
    applied,
  };
}

/**
 * The first candidate every member's own check accepts (a member whose vendor binds refuses
 * another vendor's model).
 * @throws {FerryError} CPU_INCOMPATIBLE naming each member's refusal when none fits all.
 */
async function chooseBaseline(
  gathered: Gathered[],
  candidates: BaselineCpu[],
): Promise<BaselineCpu> {
  const refusals: string[] = [];
  for (const candidate of candidates) {
    const def = baselineCpuDef(candidate);
    const outcomes = await Promise.all(
      gathered.map(async (g) => ({
        host: g.member.host,
        outcome: await g.member.checkGuest(def, g.cpu),
      })),
    );
    const failed = outcomes.filter((o) => o.outcome.verdict === 'fail');
    if (failed.length === 0) return candidate;
    refusals.push(
      `${candidate.model}: ${failed.map((f) => `${f.host}: ${f.outcome.reason}`).join('; ')}`,
    );
  }
  throw new FerryError(
    'CPU_INCOMPATIBLE',
    `No CPU model runs on every fleet member (${refusals.join(' | ')})`,
  );
}

/** The members (other than its own) that could not run this guest's CPU, and why. */
async function guestProblems(owner: Gathered, all: Gathered[]): Promise<GuestProblem[]> {
  const out: GuestProblem[] = [];
  for (const guest of owner.guests) {
    let cpu: CpuDef | undefined;
    try {
      cpu = parseDomainXml(guest.xml).def.cpu;
    } catch (err) {
      out.push({
        guest: guest.name,
        host: owner.member.host,
        cannotRunOn: [
          { host: owner.member.host, reason: `unreadable definition: ${messageOf(err)}` },
        ],
      });
      continue;
    }
    const others = all.filter((g) => g !== owner);
    const verdicts = await Promise.all(
      others.map(async (target): Promise<{ host: string; outcome: CpuCheckOutcome }> => {
        try {
          return {
            host: target.member.host,
            outcome: await target.member.checkGuest(cpu, owner.cpu),
          };
        } catch (err) {
          const reason = `cannot check the CPU: ${messageOf(err)}`;
          return {
            host: target.member.host,
            outcome: { verdict: 'fail', reason, missingFeatures: [] },
          };
        }
      }),
    );
    const cannotRunOn = verdicts
      .filter((v) => v.outcome.verdict === 'fail')
      .map((v) => ({ host: v.host, reason: v.outcome.reason }));
    if (cannotRunOn.length > 0)
      out.push({ guest: guest.name, host: owner.member.host, cannotRunOn });
  }
  return out;
}

/**
 * The guests `names` asks for, each found on exactly one member and persistent; checked all
 * before anything is written.
 * @throws {FerryError} INVALID_ARG for a name no member (or several) has, OPERATION_INVALID for
 *   a transient guest.
 */
function toApply(
  gathered: Gathered[],
  names: string[],
): { member: CpuMember; guest: MemberGuest }[] {
  const out: { member: CpuMember; guest: MemberGuest }[] = [];
  for (const name of [...new Set(names)]) {
    const found = gathered.flatMap((g) =>
      g.guests.filter((x) => x.name === name).map((guest) => ({ member: g.member, guest })),
    );
    const [one] = found;
    if (one === undefined)
      throw new FerryError(
        'INVALID_ARG',
        `No guest '${name}' on any fleet member; nothing was changed`,
      );
    if (found.length > 1) {
      const where = found.map((f) => f.member.host).join(', ');
      throw new FerryError(
        'INVALID_ARG',
        `Guest '${name}' is on several fleet members (${where}); nothing was changed`,
      );
    }
    if (!one.guest.persistent) {
      throw new FerryError(
        'OPERATION_INVALID',
        `Domain '${name}' on ${one.member.host} is transient: only a persistent definition can take the baseline CPU; nothing was changed`,
      );
    }
    out.push(one);
  }
  return out;
}
