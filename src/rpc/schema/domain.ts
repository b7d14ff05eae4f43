/**
 * Schemas of the domain resource, shared by ferryd, the CLI, the web console and peers.
 * @module
 */
import { z } from 'zod';
import { DOMAIN_STATES } from '../../domain/state.js';

/** A domain named the virsh way: by name, numeric id or UUID. */
export const DomainRef = z.strictObject({
  domain: z.string().min(1, 'Domain name, id or UUID is required').max(1024),
});

export const DomainStateSchema = z.enum(DOMAIN_STATES);

export const DomainSummary = z.strictObject({
  /** Runtime id while active (virsh's Id column), null when inactive. */
  id: z.number().int().nullable(),
  name: z.string(),
  uuid: z.string(),
  state: DomainStateSchema,
  reason: z.string(),
  persistent: z.boolean(),
});
export type DomainSummary = z.infer<typeof DomainSummary>;

export const DomainInfo = DomainSummary.extend({
  osType: z.string(),
  vcpus: z.number().int(),
  /** Guest CPU time consumed, in nanoseconds; 0 when inactive. */
  cpuTimeNs: z.number(),
  maxMemoryKiB: z.number(),
  memoryKiB: z.number(),
  autostart: z.boolean(),
});
export type DomainInfo = z.infer<typeof DomainInfo>;

export const DomainEventKind = z.enum([
  'defined',
  'undefined',
  'started',
  'suspended',
  'resumed',
  'stopped',
  'shutdown',
  'crashed',
]);

/** Lifecycle event pushed to subscribed clients as the `domain.event` notification. */
export const DomainEvent = z.strictObject({
  name: z.string(),
  uuid: z.string(),
  event: DomainEventKind,
  /** Detail as virsh event shows it, e.g. 'Booted', 'Destroyed', 'Finished'. */
  detail: z.string(),
  state: DomainStateSchema,
  reason: z.string(),
  timestamp: z.number(),
});
export type DomainEvent = z.infer<typeof DomainEvent>;
