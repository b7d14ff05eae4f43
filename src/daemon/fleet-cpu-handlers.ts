/**
 * Fleet handler (issue #8): 'fleet.cpuBaseline', over this host (in process) and every
 * reachable fleet host (peer connections).
 * @module
 */
import { hostname } from 'node:os';
import { hypervisorModels } from '../cpu/host-cpu.js';
import type { HostCpus } from '../cpu/host-cpus.js';
import { type CpuMember, fleetCpuBaseline } from '../fleet/cpu-baseline.js';
import { cpuMembers } from '../fleet/cpu-members.js';
import type { FleetMembers } from '../fleet/index.js';
import type { DomainManager } from '../host/domain-manager.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { ConnectionState } from './handlers.js';

type FleetCpuHandlers = Pick<Handlers<Methods, ConnectionState>, 'fleet.cpuBaseline'>;

export interface FleetCpuDeps {
  fleet: FleetMembers;
  cpus: HostCpus;
  domains: DomainManager;
  hostUuid: string;
}

/** This ferryd as a member: its own CPU service and domains, no RPC. */
function localMember(deps: FleetCpuDeps): CpuMember {
  const { cpus, domains } = deps;
  return {
    host: hostname(),
    hostModel: () => cpus.service.hostModel(),
    checkGuest: (cpu, source) => cpus.service.checkGuest(cpu, source),
    guests: () =>
      Promise.resolve(
        domains.list({ active: true, inactive: true }).map((d) => ({
          name: d.name,
          persistent: d.persistent,
          active: d.id !== null,
          xml: domains.xml(d.uuid, false),
        })),
      ),
    inactiveXml: (name) => Promise.resolve(domains.xml(name, true)),
    define: (xml) => {
      domains.define(xml);
      return Promise.resolve();
    },
  };
}

export function createFleetCpuHandlers(deps: FleetCpuDeps): FleetCpuHandlers {
  return {
    'fleet.cpuBaseline': async (p) => {
      const { members, unreachable } = await cpuMembers(
        deps.fleet,
        localMember(deps),
        deps.hostUuid,
      );
      const map = deps.cpus.service.map();
      const result = await fleetCpuBaseline({
        members,
        map,
        models: hypervisorModels(await deps.cpus.service.facts(), map),
        apply: p.apply ?? [],
      });
      return { ...result, ...(unreachable.length === 0 ? {} : { unreachable }) };
    },
  };
}
