/**
 * The RPC vocabulary the console speaks, typed from THE API table (src/rpc/methods.ts) with
 * type-only imports: zod and the server's code never reach the bundle.
 * @module
 */
import type { z } from 'zod';
import type { Methods, NOTIFICATIONS } from '../../../src/rpc/methods.js';

/** A host as console.hosts lists it (the contract's ConsoleHost). */
interface ConsoleHostShape {
  id: string;
  uri: string;
  hostname: string | null;
  reachable: boolean;
  error?: string;
}

/**
 * The console.* methods as the contract defines them, for as long as src/rpc/methods.ts does
 * not carry them; once it does, its own schemas win (see {@link Params}).
 */
interface ConsoleMethodShapes {
  'console.hosts': { params: Record<string, never>; result: { hosts: ConsoleHostShape[] } };
  'console.addHost': { params: { uri: string }; result: { host: ConsoleHostShape } };
  'console.removeHost': { params: { id: string }; result: { id: string } };
}

export type MethodName = keyof Methods | keyof ConsoleMethodShapes;

/** What a call sends: the schema's input type (defaults may be left out). */
export type Params<M extends MethodName> = M extends keyof Methods
  ? z.input<Methods[M]['params']>
  : M extends keyof ConsoleMethodShapes
    ? ConsoleMethodShapes[M]['params']
    : never;

/** What a call resolves to: the schema's output type. */
export type Result<M extends MethodName> = M extends keyof Methods
  ? z.output<Methods[M]['result']>
  : M extends keyof ConsoleMethodShapes
    ? ConsoleMethodShapes[M]['result']
    : never;

export type NotificationName = keyof typeof NOTIFICATIONS;
export type NotificationParams<N extends NotificationName> = z.output<(typeof NOTIFICATIONS)[N]>;

export type ConsoleHost = Result<'console.hosts'>['hosts'][number];
export type JobStats = Result<'job.info'>;
export type DomainInfo = Result<'domain.info'>;
export type DomainSummary = Result<'domain.list'>['domains'][number];
export type PreflightReport = Result<'migration.preflight'>;
export type MigrateFlagsInput = Params<'migration.start'>['flags'];
export type JobProgress = NotificationParams<'job.progress'>;
export type DomainEvent = NotificationParams<'domain.event'>;
