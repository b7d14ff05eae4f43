/**
 * `ferry migrate` flags: which combinations can work (refused before anything starts,
 * naming the conflict), and the QEMU capabilities and parameters each flag turns into —
 * libvirt's flag→capability table, with a column saying which side needs it.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { DEFAULT_MIGRATION_TUNING } from '../host/index.js';
import type { MigrateFlags } from '../rpc/schema/migration.js';
import { autoPostcopyAllowed, DORMANT_THROTTLE } from './auto-policy.js';

/** libvirt's "unlimited" bandwidth, as `virsh migrate-getspeed` prints it (MiB/s). */
export const UNLIMITED_BANDWIDTH_MIBS = DEFAULT_MIGRATION_TUNING.bandwidthMiBs;
/** QEMU's own default maximum downtime. */
export const DEFAULT_MAX_DOWNTIME_MS = DEFAULT_MIGRATION_TUNING.downtimeMs;
/** QEMU's default max-cpu-throttle (%). */
const QEMU_MAX_CPU_THROTTLE = 99;
/** The chapter: parallel migration uses 2 connections unless told otherwise. */
export const DEFAULT_PARALLEL_CONNECTIONS = 2;

export interface DomainFacts {
  active: boolean;
  persistent: boolean;
}

function refuse(message: string): never {
  throw new FerryError('INVALID_ARG', message);
}

/** Throws when the flags cannot work together or for this domain; says which flags and why. */
export function checkFlags(f: MigrateFlags, domain: DomainFacts): void {
  if (f.live && f.offline) refuse('Options --live and --offline are mutually exclusive');
  if (f.offline) {
    if (!f.persistent) refuse('Offline migration requires --persistent: only the definition moves');
    const live = [
      ['--postcopy', f.postcopy],
      ['--parallel', f.parallel],
      ['--auto-converge', f.autoConverge],
      ['--timeout', f.timeout !== undefined],
      ['--suspend', f.suspend],
      ['--bandwidth', f.bandwidth !== undefined],
      ['--migrateuri', f.migrateUri !== undefined],
      ['--tls', f.tls],
      ['--copy-storage-inc', f.copyStorageInc],
      ['--disks-port', f.disksPort !== undefined],
    ] as const;
    const bad = live.filter(([, on]) => on).map(([name]) => name);
    if (bad.length > 0)
      refuse(`Option ${bad.join(', ')} cannot be used with --offline: no memory is transferred`);
  } else if (!domain.active) {
    refuse(
      'Requested operation is not valid: domain is not running (use --offline --persistent to move its definition)',
    );
  }
  if (f.undefineSource && !domain.persistent) {
    refuse(
      'Option --undefinesource cannot be used on a transient domain: it has no definition to remove',
    );
  }
  if (f.postcopy && f.parallel) {
    refuse(
      'Options --postcopy and --parallel cannot be combined: QEMU 7.2 does not support post-copy over multifd',
    );
  }
  if (f.postcopyAfterPrecopy && !f.postcopy)
    refuse('Option --postcopy-after-precopy requires --postcopy');
  if (f.postcopyBandwidth !== undefined && !f.postcopy)
    refuse('Option --postcopy-bandwidth requires --postcopy');
  if (f.parallelConnections !== undefined && !f.parallel)
    refuse('Option --parallel-connections requires --parallel');
  if (
    (f.autoConvergeInitial !== undefined || f.autoConvergeIncrement !== undefined) &&
    !f.autoConverge
  ) {
    refuse('Options --auto-converge-initial and --auto-converge-increment require --auto-converge');
  }
  if (f.timeoutSuspend && f.timeoutPostcopy)
    refuse('Options --timeout-suspend and --timeout-postcopy are mutually exclusive');
  if ((f.timeoutSuspend || f.timeoutPostcopy) && f.timeout === undefined) {
    refuse('Options --timeout-suspend and --timeout-postcopy require --timeout');
  }
  if (f.timeout !== undefined && !f.live) refuse('Option --timeout requires --live');
  checkAutoFlags(f);
  checkStorageFlags(f);
}

/**
 * `--auto` (which implies --live) takes over what the options below would decide: when to
 * throttle and when to switch to post-copy.
 */
function checkAutoFlags(f: MigrateFlags): void {
  if (f.auto !== true) {
    if (f.autoMaxDowntime !== undefined || f.autoMaxThrottle !== undefined)
      refuse('Options --auto-max-downtime and --auto-max-throttle require --auto');
    return;
  }
  if (f.offline) refuse('Options --auto and --offline are mutually exclusive: --auto is live');
  const replaced = [
    ['--auto-converge', f.autoConverge],
    ['--auto-converge-initial', f.autoConvergeInitial !== undefined],
    ['--auto-converge-increment', f.autoConvergeIncrement !== undefined],
    ['--postcopy-after-precopy', f.postcopyAfterPrecopy],
    ['--timeout', f.timeout !== undefined],
    ['--timeout-suspend', f.timeoutSuspend],
    ['--timeout-postcopy', f.timeoutPostcopy],
  ] as const;
  const bad = replaced.filter(([, on]) => on).map(([name]) => name);
  if (bad.length > 0)
    refuse(
      `Option ${bad.join(', ')} cannot be used with --auto: --auto decides itself when to throttle the guest and when to switch to post-copy`,
    );
}

function checkStorageFlags(f: MigrateFlags): void {
  const copying = f.copyStorageAll || f.copyStorageInc;
  if (f.copyStorageAll && f.copyStorageInc)
    refuse('Options --copy-storage-all and --copy-storage-inc are mutually exclusive');
  if (f.migrateDisks !== undefined && !copying)
    refuse('Option --migrate-disks requires --copy-storage-all or --copy-storage-inc');
  if (f.disksPort !== undefined && !copying)
    refuse('Option --disks-port requires --copy-storage-all or --copy-storage-inc');
  if (copying && f.postcopy)
    refuse(
      'Options --postcopy and --copy-storage-all/--copy-storage-inc cannot be combined: the disks must be in sync before the switch-over',
    );
  if (f.timeoutPostcopy && !f.postcopy) refuse('Option --timeout-postcopy requires --postcopy');
}

/**
 * `migrate --postcopy-resume` starts nothing: the paused job keeps the options it started
 * with, so options that would change it are refused rather than silently ignored.
 */
export function checkResumeFlags(f: MigrateFlags): void {
  const changing = [
    ['--offline', f.offline],
    ['--suspend', f.suspend],
    ['--dname', f.dname !== undefined],
    ['--parallel', f.parallel],
    ['--parallel-connections', f.parallelConnections !== undefined],
    ['--auto-converge', f.autoConverge],
    ['--auto-converge-initial', f.autoConvergeInitial !== undefined],
    ['--auto-converge-increment', f.autoConvergeIncrement !== undefined],
    ['--postcopy-after-precopy', f.postcopyAfterPrecopy],
    ['--postcopy-bandwidth', f.postcopyBandwidth !== undefined],
    ['--timeout', f.timeout !== undefined],
    ['--timeout-suspend', f.timeoutSuspend],
    ['--timeout-postcopy', f.timeoutPostcopy],
    ['--bandwidth', f.bandwidth !== undefined],
    ['--migrateuri', f.migrateUri !== undefined],
    ['--listen-address', f.listenAddress !== undefined],
    ['--abort-on-error', f.abortOnError],
    ['--auto', f.auto === true],
  ] as const;
  const bad = changing.filter(([, on]) => on).map(([name]) => name);
  if (bad.length > 0)
    refuse(
      `Option ${bad.join(', ')} cannot be used with --postcopy-resume: the paused migration keeps the options it was started with`,
    );
}

export interface Capability {
  capability: string;
  state: boolean;
}

/** The capability table: flag → QEMU capability, and whether the destination needs it too. */
const CAPABILITY_TABLE: readonly {
  capability: string;
  when: (f: MigrateFlags) => boolean;
  both: boolean;
}[] = [
  { capability: 'events', when: () => true, both: true },
  { capability: 'multifd', when: (f) => f.parallel, both: true },
  // --auto arms both at the start (QEMU cannot change capabilities once `migrate` runs).
  { capability: 'postcopy-ram', when: (f) => f.postcopy || autoPostcopyAllowed(f), both: true },
  { capability: 'auto-converge', when: (f) => f.autoConverge || f.auto === true, both: false },
  // Disks copied: QEMU stops before the switch-over so the mirrors finish with the guest paused.
  {
    capability: 'pause-before-switchover',
    when: (f) => !f.offline && (f.copyStorageAll || f.copyStorageInc),
    both: false,
  },
];

/**
 * Every capability of the table, each set on or off: a QEMU that received a guest keeps the
 * capabilities of that incoming job, and a stale `postcopy-ram` would break its next outgoing one.
 */
export function capabilitiesFor(f: MigrateFlags, side: 'source' | 'destination'): Capability[] {
  return CAPABILITY_TABLE.filter((row) => side === 'source' || row.both).map((row) => ({
    capability: row.capability,
    state: row.when(f),
  }));
}

/** QEMU migration parameters for the flags (the destination needs only multifd-channels). */
export function parametersFor(
  f: MigrateFlags,
  side: 'source' | 'destination',
  tuning: { downtimeMs: number; bandwidthMiBs: number },
): Record<string, number> {
  const params: Record<string, number> = {};
  if (f.parallel)
    params['multifd-channels'] = f.parallelConnections ?? DEFAULT_PARALLEL_CONNECTIONS;
  if (side === 'destination') return params;
  params['downtime-limit'] = tuning.downtimeMs;
  params['max-bandwidth'] = bandwidthBytes(f.bandwidth ?? tuning.bandwidthMiBs);
  if (f.autoConverge) {
    if (f.autoConvergeInitial !== undefined) params['cpu-throttle-initial'] = f.autoConvergeInitial;
    if (f.autoConvergeIncrement !== undefined)
      params['cpu-throttle-increment'] = f.autoConvergeIncrement;
  }
  // --auto's auto-converge sleeps at 1 % until its step 2 raises the bound; every other job
  // gets QEMU's default bound back (a QEMU keeps parameters from job to job).
  params['max-cpu-throttle'] = f.auto === true ? DORMANT_THROTTLE : QEMU_MAX_CPU_THROTTLE;
  if (f.auto === true) params['cpu-throttle-initial'] = DORMANT_THROTTLE;
  if (f.postcopyBandwidth !== undefined)
    params['max-postcopy-bandwidth'] = bandwidthBytes(f.postcopyBandwidth);
  return params;
}

/** MiB/s to QEMU's bytes/s, keeping "unlimited" within a JSON-safe integer. */
export function bandwidthBytes(mibs: number): number {
  return Math.min(mibs * 1024 * 1024, Number.MAX_SAFE_INTEGER);
}
