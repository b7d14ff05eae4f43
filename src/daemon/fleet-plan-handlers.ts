/**
 * Fleet plan handlers (issue #8): 'host.capacity' (this host, for the fleet's planner),
 * 'fleet.members' (every member's capacity) and 'fleet.plan' (src/fleet/make-plan.ts).
 * @module
 */
import type { PlanStore, FleetMembers, ReturnRecords } from '../fleet/index.js';
import { makePlan } from '../fleet/make-plan.js';
import { membersWithCapacity } from '../fleet/members-capacity.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { HostCapacity } from '../rpc/schema/fleet-plan.js';
import type { ConnectionState } from './handlers.js';

type FleetPlanHandlers = Pick<
  Handlers<Methods, ConnectionState>,
  'host.capacity' | 'fleet.members' | 'fleet.plan'
>;

export interface FleetPlanDeps {
  plans: PlanStore;
  fleet: FleetMembers;
  returns: ReturnRecords;
  hostUuid: string;
  /** This host's capacity now (src/fleet/capacity.ts). */
  capacity: () => Promise<HostCapacity>;
}

export function createFleetPlanHandlers(deps: FleetPlanDeps): FleetPlanHandlers {
  return {
    'host.capacity': () => deps.capacity(),
    'fleet.members': async () => {
      const { members, unreachable } = await membersWithCapacity(deps.fleet, deps.hostUuid);
      return { members, unreachable };
    },
    'fleet.plan': (p) => makePlan(deps, p),
  };
}
