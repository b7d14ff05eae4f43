/**
 * Schemas of the guest memory dirty rate (virsh domdirtyrate-calc, domstats --dirtyrate),
 * shared by ferryd and the CLI. Their methods are merged into METHODS.
 * @module
 */
import { z } from 'zod';
import { DomainRef } from './domain.js';

export const DirtyRateMode = z.enum(['page-sampling', 'dirty-bitmap', 'dirty-ring']);

/** libvirt's dirtyrate.* stats group: calc_status 0 never started, 1 measuring, 2 measured. */
export const DirtyRateStats = z.strictObject({
  calcStatus: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  /** Seconds since the host booted when the last measurement started; 0 before any. */
  calcStartTime: z.number().int(),
  /** Seconds measured; 0 before any. */
  calcPeriod: z.number().int(),
  calcMode: DirtyRateMode,
  /** MiB/s, once measured. */
  megabytesPerSecond: z.number().int().optional(),
});
export type DirtyRateStats = z.infer<typeof DirtyRateStats>;

/** One domain's record in domstats: only the groups asked for, and only while active. */
export const DomainStatsRecord = z.strictObject({
  name: z.string(),
  active: z.boolean(),
  dirtyrate: DirtyRateStats.optional(),
});
export type DomainStatsRecord = z.infer<typeof DomainStatsRecord>;

export const DIRTY_RATE_METHODS = {
  'domain.dirtyRateCalc': {
    doc: "virsh domdirtyrate-calc: start measuring the guest's memory dirty rate for `seconds` (1-60); returns at once, domain.stats reads the result. Refused for a shut-off guest, during a migration job, and for modes this host cannot measure.",
    params: DomainRef.extend({
      seconds: z.number().int().default(1),
      mode: DirtyRateMode.default('page-sampling'),
    }),
    result: z.strictObject({ name: z.string() }),
  },
  'domain.stats': {
    doc: 'virsh domstats: statistics groups of the named domains, or of every domain when none is named (inactive ones have no statistics). Groups: dirtyrate.',
    params: z.strictObject({
      domains: z.array(z.string().min(1).max(1024)).max(1024).default([]),
      dirtyrate: z.boolean().default(true),
      /** virsh --list-active / --list-inactive when no domain is named. */
      active: z.boolean().default(true),
      inactive: z.boolean().default(true),
    }),
    result: z.strictObject({ records: z.array(DomainStatsRecord) }),
  },
} as const;

export type DirtyRateMethodName = keyof typeof DIRTY_RATE_METHODS;
