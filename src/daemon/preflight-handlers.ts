/**
 * The preflight RPC methods: `migration.preflight` (ferry migrate --dry-run, on the source)
 * and `migration.preflightDestination` (the source's peer call to the destination).
 * @module
 */
import { destinationPreflight, runPreflight, type PreflightServices } from '../preflight/index.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { PreflightMethodName } from '../rpc/schema/preflight.js';
import type { ConnectionState } from './handlers.js';

type PreflightHandlers = Pick<Handlers<Methods, ConnectionState>, PreflightMethodName>;

export function createPreflightHandlers(svc: PreflightServices): PreflightHandlers {
  return {
    'migration.preflight': (p) =>
      runPreflight(svc, {
        domain: p.domain,
        destUri: p.destUri,
        flags: p.flags,
        measure: p.measure,
      }),
    'migration.preflightDestination': (p) => destinationPreflight(svc, p),
  };
}
