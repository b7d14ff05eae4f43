/**
 * THE API: every RPC method ferryd serves, as `name → { params, result, doc }`.
 * Server, CLI, web console and peers all type their calls from this one table.
 * Names are `resource.verb`; params objects are strict (unknown keys are refused).
 * @module
 */
import { z } from 'zod';
import { DomainEvent, DomainInfo, DomainRef, DomainSummary } from './schema/domain.js';
import {
  FinishParams,
  JobStats,
  JobStatusParams,
  JobStatusResult,
  MigrateFlags,
  PrepareParams,
  PrepareResult,
  ResumeParams,
  ResumeResult,
} from './schema/migration.js';
import { FLEET_METHODS } from './schema/fleet.js';
import { FLEET_PLAN_METHODS, PlanProgress } from './schema/fleet-plan.js';
import { DIRTY_RATE_METHODS } from './schema/dirty-rate.js';
import { CPU_METHODS } from './schema/cpu-methods.js';
import { LINK_METHODS } from './schema/link.js';
import { PREFLIGHT_METHODS } from './schema/preflight.js';
import { STORAGE_METHODS } from './schema/storage.js';

const Empty = z.strictObject({});
const Xml = z
  .string()
  .min(1, 'XML document is empty')
  .max(4 * 1024 * 1024);

export const METHODS = {
  'auth.list': {
    doc: 'The login mechanisms this connection must complete before any other call; empty when none is needed (unix socket, auth "none", or already logged in). Callable before logging in.',
    params: Empty,
    result: z.strictObject({ mechanisms: z.array(z.string()) }),
  },
  'auth.start': {
    doc: 'Begin a SASL login (mechanism SCRAM-SHA-256) with the client-first-message; returns the server-first-message. Callable before logging in.',
    params: z.strictObject({ mechanism: z.string().min(1).max(64), message: z.string().max(4096) }),
    result: z.strictObject({ message: z.string() }),
  },
  'auth.step': {
    doc: "Finish the login with the client-final-message; returns the server-final-message (the server's proof) and the user now logged in. Wrong credentials fail with AUTH_FAILED after a short delay.",
    params: z.strictObject({ message: z.string().max(4096) }),
    result: z.strictObject({ message: z.string(), user: z.string() }),
  },
  'host.info': {
    doc: 'Identity of the host and its hypervisor (virsh version, hostname, uri).',
    params: Empty,
    result: z.strictObject({
      hostname: z.string(),
      hostUuid: z.string(),
      ferryVersion: z.string(),
      hypervisor: z.strictObject({ name: z.literal('QEMU'), version: z.string() }).nullable(),
    }),
  },
  'domain.list': {
    doc: 'Domains on this host; active only unless `all` (virsh list [--all] [--inactive]).',
    params: z.strictObject({ active: z.boolean(), inactive: z.boolean() }),
    result: z.strictObject({ domains: z.array(DomainSummary) }),
  },
  'domain.info': {
    doc: 'virsh dominfo for one domain.',
    params: DomainRef,
    result: DomainInfo,
  },
  'domain.getXml': {
    doc: 'The definition as libvirt-style XML; the live one while active unless `inactive`.',
    params: DomainRef.extend({ inactive: z.boolean().default(false) }),
    result: z.strictObject({ xml: z.string() }),
  },
  'domain.define': {
    doc: 'Define (or redefine, same name and UUID) a persistent domain from XML. Never starts it.',
    params: z.strictObject({ xml: Xml }),
    result: z.strictObject({ name: z.string(), uuid: z.string(), warnings: z.array(z.string()) }),
  },
  'domain.undefine': {
    doc: 'Remove a persistent definition; an active domain becomes transient and keeps running.',
    params: DomainRef,
    result: z.strictObject({ name: z.string() }),
  },
  'domain.create': {
    doc: 'Start a transient domain from XML; it disappears when it stops.',
    params: z.strictObject({ xml: Xml, paused: z.boolean().default(false) }),
    result: z.strictObject({
      name: z.string(),
      id: z.number().int(),
      warnings: z.array(z.string()),
    }),
  },
  'domain.start': {
    doc: 'Start a defined, inactive domain.',
    params: DomainRef.extend({ paused: z.boolean().default(false) }),
    result: z.strictObject({ name: z.string(), id: z.number().int() }),
  },
  'domain.shutdown': {
    doc: 'Ask the guest to power off (ACPI); with `waitSeconds`, wait for it and fail on timeout.',
    params: DomainRef.extend({ waitSeconds: z.number().int().min(1).max(86400).optional() }),
    result: z.strictObject({ name: z.string(), state: z.string() }),
  },
  'domain.destroy': {
    doc: 'Stop the guest at once (QEMU is terminated).',
    params: DomainRef.extend({ graceful: z.boolean().default(false) }),
    result: z.strictObject({ name: z.string() }),
  },
  'domain.suspend': {
    doc: 'Pause all vCPUs.',
    params: DomainRef,
    result: z.strictObject({ name: z.string() }),
  },
  'domain.resume': {
    doc: 'Resume a paused guest.',
    params: DomainRef,
    result: z.strictObject({ name: z.string() }),
  },
  'domain.injectNmi': {
    doc: 'Inject an NMI into the guest (virsh inject-nmi); a guest may be set to panic on one.',
    params: DomainRef,
    result: z.strictObject({ name: z.string() }),
  },
  'domain.reboot': {
    doc: 'Reset the guest (the QEMU process stays).',
    params: DomainRef,
    result: z.strictObject({ name: z.string() }),
  },
  'domain.consoleLog': {
    doc: 'Tail of the serial console log of a domain (file or pty chardev).',
    params: DomainRef.extend({
      maxBytes: z
        .number()
        .int()
        .min(1)
        .max(16 * 1024 * 1024)
        .default(65536),
    }),
    result: z.strictObject({ text: z.string(), path: z.string().nullable() }),
  },
  'migration.start': {
    doc: 'Migrate a domain to the ferryd at `destUri` (peer to peer); resolves when the job ends. Progress comes as `job.progress` notifications to this connection. With `flags.postcopyResume`, no new job: the paused post-copy migration of the domain is resumed through `destUri` now, and the call lasts until that job ends.',
    params: DomainRef.extend({ destUri: z.string().min(1).max(4096), flags: MigrateFlags }),
    result: z.strictObject({
      name: z.string(),
      stats: JobStats,
      /** Things the user should know that did not stop the job (printed as `warning: …`). */
      warnings: z.array(z.string()).optional(),
    }),
  },
  'migration.prepare': {
    doc: 'Peer call, destination side: make ready to receive a domain (QEMU with -incoming).',
    params: PrepareParams,
    result: PrepareResult,
  },
  'migration.finish': {
    doc: 'Peer call, destination side: after the stream, run (or clean up) the received domain.',
    params: FinishParams,
    result: z.strictObject({ name: z.string(), state: z.string() }),
  },
  'migration.resume': {
    doc: 'Peer call, destination side: take up a paused post-copy job again (QEMU migrate-recover on a fresh port); the source then resumes its stream to the URI returned.',
    params: ResumeParams,
    result: ResumeResult,
  },
  'migration.status': {
    doc: 'Peer call, destination side: the phase and outcome of a job, from its journal; the source asks after a crash or a lost connection.',
    params: JobStatusParams,
    result: JobStatusResult,
  },
  'job.info': {
    doc: 'virsh domjobinfo: the running job, or with `completed` the last finished one.',
    params: DomainRef.extend({ completed: z.boolean().default(false) }),
    result: JobStats,
  },
  'job.abort': {
    doc: 'virsh domjobabort: cancel the running migration; the guest stays on the source. With `postcopy` (virsh --postcopy): pause a migration in post-copy instead (resumed by migrate --postcopy-resume); a job in post-copy cannot be cancelled.',
    params: DomainRef.extend({ postcopy: z.boolean().default(false) }),
    result: z.strictObject({ name: z.string() }),
  },
  'job.postcopy': {
    doc: 'virsh migrate-postcopy: switch the running migration to post-copy.',
    params: DomainRef,
    result: z.strictObject({ name: z.string() }),
  },
  'migration.setMaxDowntime': {
    doc: 'virsh migrate-setmaxdowntime: maximum tolerable downtime (ms), live during a job.',
    params: DomainRef.extend({ downtimeMs: z.number().int().min(1).max(2_000_000) }),
    result: z.strictObject({ downtimeMs: z.number().int() }),
  },
  'migration.getMaxDowntime': {
    doc: 'virsh migrate-getmaxdowntime.',
    params: DomainRef,
    result: z.strictObject({ downtimeMs: z.number().int() }),
  },
  'migration.setSpeed': {
    doc: 'virsh migrate-setspeed: bandwidth cap in MiB/s (0 = unlimited), live during a job.',
    params: DomainRef.extend({ bandwidthMiBs: z.number().int().min(0) }),
    result: z.strictObject({ bandwidthMiBs: z.number().int() }),
  },
  'migration.getSpeed': {
    doc: 'virsh migrate-getspeed.',
    params: DomainRef,
    result: z.strictObject({ bandwidthMiBs: z.number().int() }),
  },
  'events.subscribe': {
    doc: 'Start receiving `domain.event` notifications on this connection.',
    params: Empty,
    result: z.strictObject({ subscribed: z.literal(true) }),
  },
  ...STORAGE_METHODS,
  ...DIRTY_RATE_METHODS,
  ...CPU_METHODS,
  ...PREFLIGHT_METHODS,
  ...LINK_METHODS,
  ...FLEET_METHODS,
  ...FLEET_PLAN_METHODS,
} as const;

/** Notifications ferryd pushes to subscribed connections. */
export const NOTIFICATIONS = {
  'domain.event': DomainEvent,
  'job.progress': JobStats.extend({ name: z.string() }),
  'fleet.progress': PlanProgress,
} as const;

export type Methods = typeof METHODS;
export type MethodName = keyof Methods;
