/**
 * Schemas of the migration preflight: the report `ferry migrate --dry-run` prints (a verdict
 * per check), and what the source ferryd asks the destination ferryd to check on its side.
 * @module
 */
import { z } from 'zod';
import { CpuCheckOutcome, HostCpuModel } from './cpu.js';
import { DomainRef } from './domain.js';
import { MigrateFlags } from './migration.js';
import { CopiedDisk, DiskProbe } from './migration-disks.js';

export const PreflightVerdict = z.enum(['pass', 'warn', 'fail', 'skip']);
export type PreflightVerdict = z.output<typeof PreflightVerdict>;

/** The checks in the order they run and are printed. */
export const PREFLIGHT_CHECK_NAMES = [
  'state',
  'cpu',
  'machine',
  'versions',
  'devices',
  'numa',
  'storage',
  'ports',
  'memory',
  'bandwidth',
  'dirty-rate',
  'prediction',
] as const;
export const PreflightCheckName = z.enum(PREFLIGHT_CHECK_NAMES);
export type PreflightCheckName = z.output<typeof PreflightCheckName>;

/** One line of the report. */
export const PreflightCheck = z.strictObject({
  check: PreflightCheckName,
  verdict: PreflightVerdict,
  reason: z.string(),
});
export type PreflightCheck = z.output<typeof PreflightCheck>;

export const PreflightReport = z.strictObject({
  domain: z.string(),
  destUri: z.string(),
  /** fail when any check failed, warn when any warned, else pass. */
  verdict: z.enum(['pass', 'warn', 'fail']),
  checks: z.array(PreflightCheck),
  /** Wall time of the whole preflight (ms). */
  elapsedMs: z.number().int().min(0),
});
export type PreflightReport = z.output<typeof PreflightReport>;

export const PreflightParams = DomainRef.extend({
  destUri: z.string().min(1).max(4096),
  flags: MigrateFlags,
  /** Short measurements (dry-run's default; a migration's own preflight measures nothing). */
  measure: z
    .strictObject({ bandwidth: z.boolean().default(false), dirtyRate: z.boolean().default(false) })
    .default({ bandwidth: false, dirtyRate: false }),
});

const NumaTopology = z.strictObject({
  cells: z
    .array(
      z.strictObject({
        id: z.number().int().min(0),
        memoryKiB: z.number().int().min(0),
        cpus: z.array(z.number().int().min(0)).max(65536),
      }),
    )
    .max(1024),
});

/** What the source asks the destination to check (source ferryd → destination ferryd). */
export const DestinationPreflightParams = z.strictObject({
  /** The definition as it would be sent in prepare (already renamed when --dname). */
  xml: z.string().min(1),
  offline: z.boolean(),
  /** The machine type the guest runs with, resolved on the source ('pc' → 'pc-i440fx-7.2'). */
  machine: z.string().min(1).max(200),
  sourceCpu: HostCpuModel,
  sourceNuma: NumaTopology,
  /** The proofs the storage check reads here; the source removes its markers afterwards. */
  disks: z
    .strictObject({
      probes: z.array(DiskProbe),
      copy: z.array(CopiedDisk),
      copyProbes: z.array(DiskProbe).default([]),
    })
    .optional(),
});

const Outcome = z.strictObject({ verdict: PreflightVerdict, reason: z.string() });

export const DestinationPreflightResult = z.strictObject({
  ferryVersion: z.string(),
  qemuVersion: z.string().nullable(),
  cpu: CpuCheckOutcome,
  machine: Outcome,
  numa: NumaTopology,
  memAvailableBytes: z.number().int().min(0),
  storage: Outcome,
  /** A domain there the incoming one would clash with (name or UUID), for the state check. */
  conflict: z.string().optional(),
});
export type DestinationPreflightResult = z.output<typeof DestinationPreflightResult>;

export const PREFLIGHT_METHODS = {
  'migration.preflight': {
    doc: 'ferry migrate --dry-run: every check a migration of the domain to `destUri` would make, with a verdict each, changing nothing on either host (markers written to prove shared disks are removed).',
    params: PreflightParams,
    result: PreflightReport,
  },
  'migration.preflightDestination': {
    doc: "Peer call, destination side of the preflight: whether this host can run the guest (CPU, machine type, memory, storage) and this host's versions and NUMA topology. Changes nothing.",
    params: DestinationPreflightParams,
    result: DestinationPreflightResult,
  },
} as const;

export type PreflightMethodName = keyof typeof PREFLIGHT_METHODS;
