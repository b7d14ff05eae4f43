/**
 * Schemas of migration jobs: the flags a user gives (virsh's names, camelCased), the job
 * statistics domjobinfo shows, and what source and destination ferryd exchange.
 * @module
 */
import { z } from 'zod';
import { HostCpuModel } from './cpu.js';
import { CopiedDisk, DiskProbe } from './migration-disks.js';

const Count = z.number().int().min(0);

/** `ferry migrate` flags; the combinations are checked by migration/flags.ts. */
export const MigrateFlags = z.strictObject({
  live: z.boolean().default(false),
  offline: z.boolean().default(false),
  persistent: z.boolean().default(false),
  undefineSource: z.boolean().default(false),
  suspend: z.boolean().default(false),
  dname: z.string().min(1).max(200).optional(),
  parallel: z.boolean().default(false),
  parallelConnections: z.number().int().min(1).max(255).optional(),
  autoConverge: z.boolean().default(false),
  autoConvergeInitial: z.number().int().min(1).max(99).optional(),
  autoConvergeIncrement: z.number().int().min(1).max(99).optional(),
  postcopy: z.boolean().default(false),
  postcopyAfterPrecopy: z.boolean().default(false),
  postcopyBandwidth: z.number().int().min(1).optional(),
  timeout: z.number().int().min(1).optional(),
  timeoutSuspend: z.boolean().default(false),
  timeoutPostcopy: z.boolean().default(false),
  /** MiB/s; absent means unlimited, as libvirt sets it. */
  bandwidth: z.number().int().min(1).optional(),
  migrateUri: z.string().min(1).optional(),
  listenAddress: z.string().min(1).optional(),
  abortOnError: z.boolean().default(false),
  /** Encrypt the stream with QEMU's TLS (tls-creds-x509 over the hosts' certificates). */
  tls: z.boolean().default(false),
  /**
   * virsh's --postcopy-resume: no new job; resume the domain's paused post-copy migration
   * through this destination URI now (see migration/postcopy-resume.ts).
   */
  postcopyResume: z.boolean().default(false),
  /**
   * `--auto`: a live pre-copy that, when it stops converging, raises the max downtime (up to
   * autoMaxDowntime), then wakes auto-converge, then switches to post-copy (migration/auto-policy.ts).
   */
  auto: z.boolean().optional(),
  /** --auto's bound for the max downtime (ms); default 2000. */
  autoMaxDowntime: z.number().int().min(1).max(2_000_000).optional(),
  /** --auto's bound for the vCPU throttle (%); default 99. */
  autoMaxThrottle: z.number().int().min(1).max(99).optional(),
  /** Copy every writable disk to the destination (NBD server there, blockdev-mirror here). */
  copyStorageAll: z.boolean().default(false),
  /** Copy only each qcow2 overlay; its backing file is shared by both hosts. */
  copyStorageInc: z.boolean().default(false),
  /** With a copy-storage flag: only these disk targets ('vda'); the rest must be shared. */
  migrateDisks: z.array(z.string().min(1)).optional(),
  /** Port of the destination's NBD server (default: the first free in 49152–49215). */
  disksPort: z.number().int().min(1).max(65535).optional(),
  /** Migrate even where Ferry cannot tell that shared disks are safe (cache='unsafe'). */
  unsafe: z.boolean().default(false),
});
export type MigrateFlags = z.output<typeof MigrateFlags>;

/** Job statistics in domjobinfo's terms (bytes, ms), from QEMU's query-migrate. */
export const JobStats = z.strictObject({
  type: z.enum(['None', 'Unbounded', 'Completed', 'Failed', 'Cancelled']),
  operation: z.enum(['Outgoing migration', 'Incoming migration']).optional(),
  status: z.string(),
  timeElapsedMs: Count.optional(),
  dataProcessed: Count.optional(),
  dataRemaining: Count.optional(),
  dataTotal: Count.optional(),
  memoryBandwidth: Count.optional(),
  dirtyRate: Count.optional(),
  pageSize: Count.optional(),
  iteration: Count.optional(),
  postcopyRequests: Count.optional(),
  constantPages: Count.optional(),
  normalPages: Count.optional(),
  normalData: Count.optional(),
  expectedDowntimeMs: Count.optional(),
  setupTimeMs: Count.optional(),
  totalDowntimeMs: Count.optional(),
  autoConvergeThrottle: Count.optional(),
  /** Storage copy (virsh's File processed/remaining/total/bandwidth); data* include them. */
  diskProcessed: Count.optional(),
  diskRemaining: Count.optional(),
  diskTotal: Count.optional(),
  diskBandwidth: Count.optional(),
  postcopy: z.boolean().optional(),
  /**
   * A paused post-copy: what is being done about it, e.g. `reconnecting to URI (try 3)` or
   * `waiting for ferry migrate --postcopy-resume`. Ferry's own; virsh has no such line.
   */
  postcopyRecovery: z.string().optional(),
  /** The steps an `--auto` job took so far, each with why (Ferry's own). */
  autoSteps: z.array(z.string()).optional(),
  error: z.string().optional(),
});
export type JobStats = z.output<typeof JobStats>;

/** What the source sends the destination in prepare (libvirt's migration cookie). */
export const PrepareParams = z.strictObject({
  /** The domain XML to run (already renamed when --dname). */
  xml: z.string().min(1),
  sourceHostUuid: z.string(),
  offline: z.boolean(),
  persistent: z.boolean(),
  /** QEMU capabilities both sides must enable (multifd, postcopy-ram). */
  capabilities: z.array(z.strictObject({ capability: z.string(), state: z.boolean() })),
  parameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  listenAddress: z.string().optional(),
  /**
   * The destination's host as the source's URI names it. Over a connection without an
   * address of its own (qemu+ssh reaches ferryd's unix socket), the destination listens on
   * every address and tells the source to send the stream to this name, as libvirt does.
   */
  destHost: z.string().optional(),
  /** The source will send over TLS: the destination QEMU must listen with its certificate. */
  tls: z.boolean().default(false),
  /**
   * The source host's CPU in host-model form: the destination checks the guest's CPU against
   * it (host-model and host-passthrough guests) before QEMU starts. Absent from older sources.
   */
  sourceHostCpu: HostCpuModel.optional(),
  /** The guest's disks: proofs for the shared ones, and the ones the source will copy. */
  disks: z
    .strictObject({
      probes: z.array(DiskProbe),
      copy: z.array(CopiedDisk),
      /** Markers next to the copied images: visible here means the copy would overwrite its source. */
      copyProbes: z.array(DiskProbe).default([]),
      /** --disks-port: where the NBD server listens; default the first free incoming port. */
      port: z.number().int().min(1).max(65535).optional(),
    })
    .optional(),
});

export const PrepareResult = z.strictObject({
  /** Where the source QEMU sends the stream, e.g. tcp:127.0.0.1:49152; absent when offline. */
  migrateUri: z.string().optional(),
  jobId: z.string(),
  /** Where the copied disks are exported (NBD), when the source copies any. */
  nbd: z.strictObject({ host: z.string(), port: z.number().int() }).optional(),
  /** Things the user should know that do not stop the migration (e.g. an offline disk missing here). */
  warnings: z.array(z.string()).optional(),
});
export type PrepareResult = z.output<typeof PrepareResult>;

export const FinishParams = z.strictObject({
  jobId: z.string(),
  /** False when the source failed or aborted: the destination cleans up. */
  success: z.boolean(),
  suspend: z.boolean(),
  persistent: z.boolean(),
  /** The stream switched to post-copy: run the guest now; its pages keep arriving. */
  postcopy: z.boolean().default(false),
  /** Completed statistics from the source, kept for domjobinfo --completed on the destination. */
  stats: JobStats.optional(),
});

/** The source asking the destination to take up a paused post-copy stream again. */
export const ResumeParams = z.strictObject({
  jobId: z.string().min(1).max(200),
  /** Where the destination listens for the resumed stream (the address the source reached). */
  listenAddress: z.string().optional(),
});

export const ResumeResult = z.strictObject({
  /** Where the source QEMU sends the resumed stream (`migrate` with `resume: true`). */
  migrateUri: z.string(),
});

/** A peer asking about a job after a crash or a lost connection (see migration/journal.ts). */
export const JobStatusParams = z.strictObject({ jobId: z.string().min(1).max(200) });

export const JobStatusResult = z.strictObject({
  /** `unknown`: this host has no record of the job. */
  phase: z.enum(['prepared', 'resuming', 'done', 'unknown']),
  outcome: z.enum(['completed', 'failed', 'cancelled']).optional(),
});
