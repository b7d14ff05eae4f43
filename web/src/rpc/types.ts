/**
 * The RPC vocabulary the console speaks, typed from THE API table (src/rpc/methods.ts) with
 * type-only imports: zod and the server's code never reach the bundle.
 * @module
 */
import type { z } from 'zod';
import type { Methods, NOTIFICATIONS } from '../../../src/rpc/methods.js';

export type MethodName = keyof Methods;

/** What a call sends: the schema's input type (defaults may be left out). */
export type Params<M extends MethodName> = z.input<Methods[M]['params']>;

/** What a call resolves to: the schema's output type. */
export type Result<M extends MethodName> = z.output<Methods[M]['result']>;

export type NotificationName = keyof typeof NOTIFICATIONS;
export type NotificationParams<N extends NotificationName> = z.output<(typeof NOTIFICATIONS)[N]>;

export type FleetHost = Result<'fleet.hosts'>['hosts'][number];
export type JobStats = Result<'job.info'>;
export type DomainInfo = Result<'domain.info'>;
export type DomainSummary = Result<'domain.list'>['domains'][number];
export type PreflightReport = Result<'migration.preflight'>;
export type MigrateFlagsInput = Params<'migration.start'>['flags'];
export type JobProgress = NotificationParams<'job.progress'>;
export type DomainEvent = NotificationParams<'domain.event'>;
