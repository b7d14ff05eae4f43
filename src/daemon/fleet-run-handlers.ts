/**
 * Fleet handlers (issue #8): 'fleet.run' | 'fleet.stop'. Placeholder until built: each answers NO_SUPPORT.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { ConnectionState } from './handlers.js';
import type { PlanStore } from '../fleet/index.js';

type FleetRunHandlers = Pick<Handlers<Methods, ConnectionState>, 'fleet.run' | 'fleet.stop'>;

const notYet = (method: string): never => {
  throw new FerryError('NO_SUPPORT', `'${method}' is not built yet`);
};

export function createFleetRunHandlers(_plans: PlanStore): FleetRunHandlers {
  return {
    'fleet.run': () => notYet('fleet.run'),
    'fleet.stop': () => notYet('fleet.stop'),
  };
}
