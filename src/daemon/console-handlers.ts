/**
 * The console.* RPC methods: the hosts the web console shows, a thin call into the console's
 * RemoteHosts (src/console).
 * @module
 */
import type { RemoteHosts } from '../console/index.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { ConsoleMethodName } from '../rpc/schema/console.js';
import type { ConnectionState } from './handlers.js';

type ConsoleHandlers = Pick<Handlers<Methods, ConnectionState>, ConsoleMethodName>;

export function createConsoleHandlers(hosts: RemoteHosts): ConsoleHandlers {
  return {
    'console.hosts': async () => ({ hosts: await hosts.list() }),
    'console.addHost': async (p) => ({ host: await hosts.add(p.uri) }),
    'console.removeHost': (p) => hosts.remove(p.id),
  };
}
