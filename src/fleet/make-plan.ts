/**
 * `fleet.plan`: gather the members' capacities, check and measure the candidate moves, place
 * them (the pure planner), and keep the plan for fleet.run with how to reach each host it names.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { FleetMember, Plan, PlanParams } from '../rpc/schema/fleet-plan.js';
import type { FleetMembers } from './fleet-members.js';
import { gatherPlannerInput, type CandidateMove, type MemberCall } from './gather.js';
import { findMember, membersWithCapacity } from './members-capacity.js';
import type { PlanHost, PlanStore } from './plan-store.js';
import {
  finishPlan,
  planBalance,
  planConsolidate,
  planEvacuate,
  planUndo,
  type Draft,
} from './planner/index.js';
import type { ReturnRecords } from './return-records.js';

/** A preflight (with its ~1 s link measurement) or a dirty-rate read waits no longer. */
export const GATHER_CALL_TIMEOUT_MS = 60_000;

export interface PlanServices {
  fleet: FleetMembers;
  plans: PlanStore;
  returns: ReturnRecords;
  hostUuid: string;
}

function everyMove(
  guestsOf: readonly FleetMember[],
  targets: readonly FleetMember[],
): CandidateMove[] {
  return guestsOf.flatMap((from) =>
    from.capacity.guests.flatMap((guest) =>
      targets.filter((to) => to !== from).map((to) => ({ guest, from, to })),
    ),
  );
}

export async function makePlan(svc: PlanServices, params: PlanParams): Promise<Plan> {
  const answer = await membersWithCapacity(svc.fleet, svc.hostUuid);
  const { members } = answer;
  if (members.length === 0)
    throw new FerryError(
      'OPERATION_INVALID',
      answer.unreachable.length === 0
        ? 'The fleet has no members: add hosts with ferry fleet add URI'
        : `No fleet member is reachable (${answer.unreachable.map((u) => `${u.uri}: ${u.error}`).join('; ')})`,
    );
  const call: MemberCall = async (member, method, p) => {
    const id = answer.storeIds.get(member) ?? member.id;
    const client = await svc.fleet.client(id);
    return client.callRaw(method, p, { timeoutMs: GATHER_CALL_TIMEOUT_MS });
  };
  let candidates: CandidateMove[];
  let place: (input: Parameters<typeof planEvacuate>[0]) => Draft;
  switch (params.kind) {
    case 'evacuate': {
      const source = findMember(answer, params.host);
      const targets =
        params.to === undefined
          ? members.filter((m) => m !== source)
          : [...new Set(params.to.map((ref) => findMember(answer, ref)))];
      if (targets.includes(source))
        throw new FerryError(
          'INVALID_ARG',
          `--to ${source.capacity.hostname}: the host being evacuated cannot be a target`,
        );
      candidates = everyMove([source], targets);
      const to = params.to === undefined ? undefined : targets.map((t) => t.capacity.hostname);
      place = (input) =>
        planEvacuate(input, {
          host: source.capacity.hostname,
          ...(to === undefined ? {} : { to }),
        });
      break;
    }
    case 'balance':
      candidates = everyMove(members, members);
      place = (input) =>
        planBalance(input, params.maxMoves === undefined ? {} : { maxMoves: params.maxMoves });
      break;
    case 'consolidate':
      candidates = everyMove(members, members);
      place = (input) =>
        planConsolidate(input, params.keep === undefined ? {} : { keep: params.keep });
      break;
    case 'undo': {
      const home = findMember(answer, params.host);
      const records = await svc.returns.list(home.capacity.hostname);
      candidates = records.flatMap((r) => {
        const from = members.find((m) => m.capacity.hostname === r.to);
        const guest = from?.capacity.guests.find((g) => g.uuid === r.uuid);
        return from === undefined || guest === undefined ? [] : [{ guest, from, to: home }];
      });
      place = (input) => planUndo(input, { host: home.capacity.hostname, records });
      break;
    }
  }
  const input = await gatherPlannerInput(members, candidates, call);
  const plan = finishPlan(input, place(input), {
    id: svc.plans.newId(),
    createdAt: new Date().toISOString(),
  });
  const hosts = new Map<string, PlanHost>(
    members.map((m) => [m.capacity.hostname, { id: m.id, uri: m.uri }]),
  );
  svc.plans.put(plan, hosts);
  return plan;
}
