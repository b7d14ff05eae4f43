/**
 * Fleet handlers (issue #8): 'fleet.cpuBaseline'. Placeholder until built: each answers NO_SUPPORT.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { ConnectionState } from './handlers.js';

type FleetCpuHandlers = Pick<Handlers<Methods, ConnectionState>, 'fleet.cpuBaseline'>;

const notYet = (method: string): never => {
  throw new FerryError('NO_SUPPORT', `'${method}' is not built yet`);
};

export function createFleetCpuHandlers(): FleetCpuHandlers {
  return {
    'fleet.cpuBaseline': () => notYet('fleet.cpuBaseline'),
  };
}
