/**
 * The members fleet cpu-baseline asks: every reachable fleet host over its peer connection
 * (FleetMembers.client), named by its host.info host name, and this ferryd (given in process by
 * the caller). A fleet host that is this ferryd under a network URI (same host UUID) is listed
 * once, as this host.
 * @module
 */
import type { z } from 'zod';
import { messageOf } from '../common/errors.js';
import { guestCpuOf } from '../cpu/guest-cpu-wire.js';
import { METHODS, type MethodName, type Methods } from '../rpc/methods.js';
import type { CpuMember, MemberGuest } from './cpu-baseline.js';
import { LOCAL_HOST_ID, type FleetMembers, type HostClient } from './fleet-members.js';

/** Calls on a member are short; one that does not answer in this time fails the command. */
export const MEMBER_CALL_TIMEOUT_MS = 30_000;

/** A fleet host the command could not ask, and why. */
export interface UnreachableMember {
  host: string;
  error: string;
}

async function call<K extends MethodName>(
  client: HostClient,
  method: K,
  params: z.input<Methods[K]['params']>,
): Promise<z.output<Methods[K]['result']>> {
  const raw = await client.callRaw(method, params, { timeoutMs: MEMBER_CALL_TIMEOUT_MS });
  // A peer's answer is checked like any input.
  return METHODS[method].result.parse(raw) as z.output<Methods[K]['result']>;
}

/** A remote member: every question is an RPC to its ferryd. */
export function remoteCpuMember(host: string, client: HostClient): CpuMember {
  return {
    host,
    hostModel: () => call(client, 'cpu.hostModel', {}),
    checkGuest: (cpu, source) =>
      call(client, 'cpu.checkGuest', {
        cpu: cpu === undefined ? null : guestCpuOf(cpu),
        sourceCpu: source,
      }),
    guests: async () => {
      const { domains } = await call(client, 'domain.list', { active: true, inactive: true });
      return Promise.all(
        domains.map(async (d): Promise<MemberGuest> => ({
          name: d.name,
          persistent: d.persistent,
          active: d.id !== null,
          xml: (await call(client, 'domain.getXml', { domain: d.uuid, inactive: false })).xml,
        })),
      );
    },
    inactiveXml: async (name) =>
      (await call(client, 'domain.getXml', { domain: name, inactive: true })).xml,
    define: async (xml) => {
      await call(client, 'domain.define', { xml });
    },
  };
}

/**
 * This host first, then every reachable fleet host not this one; the hosts that could not be
 * reached (or did not answer host.info) are reported beside.
 */
export async function cpuMembers(
  fleet: FleetMembers,
  local: CpuMember,
  localHostUuid: string,
): Promise<{ members: CpuMember[]; unreachable: UnreachableMember[] }> {
  const listed = (await fleet.list()).filter((h) => h.id !== LOCAL_HOST_ID);
  const unreachable: UnreachableMember[] = [];
  const remote = await Promise.all(
    listed.map(async (h): Promise<CpuMember | undefined> => {
      if (!h.reachable) {
        unreachable.push({ host: h.uri, error: h.error ?? 'unreachable' });
        return undefined;
      }
      try {
        const client = await fleet.client(h.id);
        const info = await call(client, 'host.info', {});
        if (info.hostUuid === localHostUuid) return undefined;
        return remoteCpuMember(info.hostname, client);
      } catch (err) {
        unreachable.push({ host: h.uri, error: messageOf(err) });
        return undefined;
      }
    }),
  );
  return {
    members: [local, ...remote.filter((m): m is CpuMember => m !== undefined)],
    unreachable,
  };
}
