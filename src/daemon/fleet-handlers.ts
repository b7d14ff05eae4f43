/**
 * The console.* RPC methods: the hosts the web console shows, a thin call into the console's
 * FleetMembers (src/console).
 * @module
 */
import type { FleetMembers } from '../fleet/index.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { FleetMethodName } from '../rpc/schema/fleet.js';
import type { ConnectionState } from './handlers.js';

type ConsoleHandlers = Pick<Handlers<Methods, ConnectionState>, FleetMethodName>;

export function createFleetHandlers(hosts: FleetMembers): ConsoleHandlers {
  return {
    'fleet.hosts': async () => ({ hosts: await hosts.list() }),
    'fleet.addHost': async (p) => ({ host: await hosts.add(p.uri) }),
    'fleet.removeHost': (p) => hosts.remove(p.id),
  };
}
