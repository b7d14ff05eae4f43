/**
 * How far a migration job is, from its statistics: one reading for `ferry migrate --verbose`,
 * the web console's progress view and a fleet plan's per-move bars, so a job reads the same
 * everywhere. Runtime-neutral (the browser imports it).
 *
 * The percentage is processed / (processed + remaining), held at 99 while anything remains.
 * virsh computes 100 − remaining/total, which drops back at every pre-copy pass because each
 * pass re-sends the pages dirtied meanwhile; callers hold the highest value reached, since a
 * bar going backwards reads as "broken".
 * @module
 */

/** The statistics progress is read from (the RPC's JobStats fits). */
export interface JobSample {
  readonly type: string;
  readonly dataProcessed?: number | undefined;
  readonly dataRemaining?: number | undefined;
  readonly memoryBandwidth?: number | undefined;
  readonly diskBandwidth?: number | undefined;
  readonly dirtyRate?: number | undefined;
  readonly iteration?: number | undefined;
  readonly postcopy?: boolean | undefined;
}

/** Whether memory pages are being sent yet (a storage copy goes first; memory waits). */
export function memoryStarted(stats: JobSample): boolean {
  return (stats.memoryBandwidth ?? 0) > 0 || (stats.iteration ?? 0) > 0;
}

/** Bytes per second sent now: memory's rate, or the disks' while only they are copied. */
export function jobThroughput(stats: JobSample): number {
  return memoryStarted(stats) ? (stats.memoryBandwidth ?? 0) : (stats.diskBandwidth ?? 0);
}

/** This sample's percentage (see the module doc); 100 once completed. */
export function samplePercent(stats: JobSample): number {
  if (stats.type === 'Completed') return 100;
  const processed = stats.dataProcessed ?? 0;
  const remaining = stats.dataRemaining ?? 0;
  const sum = processed + remaining;
  const raw = sum > 0 ? Math.floor((processed * 100) / sum) : 0;
  return remaining > 0 ? Math.min(raw, 99) : raw;
}

/**
 * Seconds left: what remains over the net rate; 0 once completed, undefined when the job is
 * not running or not gaining. In pre-copy the guest re-dirties pages as they go, so the net
 * rate is throughput − dirty rate; in post-copy (and a storage copy before memory starts)
 * nothing is sent twice, so it is the throughput itself.
 */
export function etaSeconds(stats: JobSample): number | undefined {
  if (stats.type === 'Completed') return 0;
  if (stats.type !== 'Unbounded') return undefined;
  const throughput = jobThroughput(stats);
  const net =
    stats.postcopy === true || !memoryStarted(stats)
      ? throughput
      : throughput - (stats.dirtyRate ?? 0);
  return net > 0 ? (stats.dataRemaining ?? 0) / net : undefined;
}
