/**
 * The web console's server side: the HTTP(S) listener ferryd opens when console_enabled = 1
 * (sign-in, sessions, the front end's files, the WebSocket that carries the same JSON-RPC as
 * the CLI), and the remote hosts the console shows and relays to. ferryd's RpcServer does the
 * RPC; this folder only decides who may reach it.
 * @module
 */
export { DEFAULT_WEB_DIR, startConsole } from './console-server.js';
export type { ConsoleLog, ConsoleOptions, ConsoleServer } from './console-server.js';
export type { ConnectHost, HostClient, FleetMembersOptions } from '../fleet/index.js';
