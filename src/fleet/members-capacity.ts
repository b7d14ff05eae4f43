/**
 * `fleet.members`: every reachable fleet host with its capacity, asked at once over the peer
 * connections. This ferryd is a member when it was added by a network URI too: recognised by
 * its host UUID, it is listed once, as 'local', with that URI (the one the others reach it by).
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import { HostCapacity, type FleetMember } from '../rpc/schema/fleet-plan.js';
import type { FleetMembers } from './fleet-members.js';
import { LOCAL_HOST_ID } from './fleet-members.js';

/** A host.capacity over a peer connection waits no longer than this. */
export const CAPACITY_TIMEOUT_MS = 10_000;

export interface MembersAnswer {
  members: FleetMember[];
  unreachable: { id: string; uri: string; error: string }[];
  /** The fleet store's id of each member (the self member's id is 'local' in `members`). */
  storeIds: Map<FleetMember, string>;
}

export async function membersWithCapacity(
  fleet: FleetMembers,
  hostUuid: string,
): Promise<MembersAnswer> {
  const records = await fleet.records();
  const asked = await Promise.all(
    records.map(async (r) => {
      try {
        const client = await fleet.client(r.id);
        const raw = await client.callRaw('host.capacity', {}, { timeoutMs: CAPACITY_TIMEOUT_MS });
        const parsed = HostCapacity.safeParse(raw);
        if (!parsed.success)
          throw new FerryError('OPERATION_FAILED', `${r.uri} answered host.capacity malformed`);
        return { record: r, capacity: parsed.data };
      } catch (err) {
        return { record: r, error: messageOf(err) };
      }
    }),
  );
  const answer: MembersAnswer = { members: [], unreachable: [], storeIds: new Map() };
  for (const a of asked) {
    if (a.capacity === undefined) {
      answer.unreachable.push({ id: a.record.id, uri: a.record.uri, error: a.error });
      continue;
    }
    const same = answer.members.find(
      (m) =>
        m.capacity.hostUuid === a.capacity.hostUuid || m.capacity.hostname === a.capacity.hostname,
    );
    if (same !== undefined) {
      // One host added under two URIs is one member; two hosts with one name cannot be told apart.
      if (same.capacity.hostUuid !== a.capacity.hostUuid)
        answer.unreachable.push({
          id: a.record.id,
          uri: a.record.uri,
          error: `host name '${a.capacity.hostname}' is already ${same.uri}'s: plans name hosts by their name`,
        });
      continue;
    }
    const member: FleetMember = {
      id: a.capacity.hostUuid === hostUuid ? LOCAL_HOST_ID : a.record.id,
      uri: a.record.uri,
      capacity: a.capacity,
    };
    answer.members.push(member);
    answer.storeIds.set(member, a.record.id);
  }
  return answer;
}

/** The member a user names by host name, fleet id or URI; INVALID_ARG naming the choices. */
export function findMember(answer: MembersAnswer, ref: string): FleetMember {
  const found = answer.members.find(
    (m) =>
      m.capacity.hostname === ref ||
      m.id === ref ||
      m.uri === ref ||
      answer.storeIds.get(m) === ref,
  );
  if (found !== undefined) return found;
  const down = answer.unreachable.find((u) => u.id === ref || u.uri === ref);
  if (down !== undefined)
    throw new FerryError(
      'OPERATION_FAILED',
      `Fleet host ${down.uri} is unreachable: ${down.error}`,
    );
  const names = answer.members.map((m) => m.capacity.hostname).join(', ');
  throw new FerryError(
    'INVALID_ARG',
    `No fleet member '${ref}' (members: ${names === '' ? 'none — add hosts with ferry fleet add URI' : names})`,
  );
}
