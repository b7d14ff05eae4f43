/**
 * Fleet handlers (issue #8): 'host.capacity' | 'fleet.members' | 'fleet.plan'. Placeholder until built: each answers NO_SUPPORT.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { ConnectionState } from './handlers.js';
import type { PlanStore } from '../fleet/index.js';

type FleetPlanHandlers = Pick<
  Handlers<Methods, ConnectionState>,
  'host.capacity' | 'fleet.members' | 'fleet.plan'
>;

const notYet = (method: string): never => {
  throw new FerryError('NO_SUPPORT', `'${method}' is not built yet`);
};

export function createFleetPlanHandlers(_plans: PlanStore): FleetPlanHandlers {
  return {
    'host.capacity': () => notYet('host.capacity'),
    'fleet.members': () => notYet('fleet.members'),
    'fleet.plan': () => notYet('fleet.plan'),
  };
}
