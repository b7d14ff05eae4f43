/**
 * virsh domjobinfo's layout (libvirt 9.0 `cmdDomjobinfo`): labels padded by `%-17s`, counts by
 * `%-12llu` (hence the trailing blanks), sizes through `vshPrettyCapacity` with three decimals,
 * and the blank line virsh ends every command with. Scripts parse this, so it must match byte
 * for byte (see the captures in format/jobinfo.test.ts).
 * @module
 */
import { formatCapacity } from '../../common/capacity.js';
import type { JobStats } from '../../rpc/schema/migration.js';

export { formatCapacity };

/**
 * JobStats plus libvirt's two "w/o network" times. JobStats does not carry them (yet); when a
 * daemon sends them they are printed where virsh prints them, otherwise the lines are left out.
 */
export type JobInfo = JobStats & { timeElapsedNetMs?: number; downtimeNetMs?: number };

export interface JobInfoOptions {
  /** `--completed`: a Completed job's statistics are shown (virsh shows only its type otherwise). */
  completed?: boolean;
  /** `--anystats`: statistics even of a failed or cancelled job. */
  anyStats?: boolean;
}

/** QEMU's page size when a job does not say (dirty rate arrives in bytes/s, virsh prints pages/s). */
const DEFAULT_PAGE_SIZE = 4096;

/** The whole `virsh domjobinfo` output for a job, ending with virsh's blank line. */
export function formatJobInfo(stats: JobInfo, options: JobInfoOptions = {}): string {
  const lines = [`${label('Job type:')}${stats.type.padEnd(12)}`];
  const showStats =
    stats.type === 'Unbounded' ||
    (stats.type === 'Completed' && options.completed === true) ||
    (options.anyStats === true && stats.type !== 'None');
  if (!showStats) return lines.join('\n') + '\n\n';

  const ms = (key: string, v: number | undefined): void => {
    if (v !== undefined) lines.push(`${label(key)}${String(v).padEnd(12)} ms`);
  };
  const count = (key: string, v: number | undefined, unit = ''): void => {
    if (v !== undefined) lines.push(`${label(key)}${String(v).padEnd(12)}${unit}`);
  };
  const size = (key: string, v: number | undefined, unit = ''): void => {
    if (v !== undefined) lines.push(`${label(key)}${formatCapacity(v)}${unit}`);
  };

  if (stats.operation !== undefined)
    lines.push(`${label('Operation:')}${stats.operation.padEnd(12)}`);
  // Ferry's own line, only while a post-copy stream is paused (virsh has no such state).
  if (stats.postcopyRecovery !== undefined)
    lines.push(`${label('Post-copy:')}${stats.postcopyRecovery}`);
  // Ferry's own lines: what `migrate --auto` did so far, in order, each with why.
  for (const step of stats.autoSteps ?? [])
    lines.push(`${label('Auto:')}${step.replace(/^auto /, '')}`);
  ms('Time elapsed:', stats.timeElapsedMs ?? 0);
  ms('Time elapsed w/o network:', stats.timeElapsedNetMs);
  const processed = stats.dataProcessed ?? 0;
  const remaining = stats.dataRemaining ?? 0;
  const total = stats.dataTotal ?? 0;
  if (processed !== 0 || remaining !== 0 || total !== 0) {
    size('Data processed:', processed);
    size('Data remaining:', remaining);
    size('Data total:', total);
    // Data is memory plus disks (libvirt's sums); without a storage copy the two are equal.
    size('Memory processed:', processed - (stats.diskProcessed ?? 0));
    size('Memory remaining:', remaining - (stats.diskRemaining ?? 0));
    size('Memory total:', total - (stats.diskTotal ?? 0));
    // virsh leaves out a zero bandwidth (`rc && value`).
    if (stats.memoryBandwidth !== undefined && stats.memoryBandwidth !== 0)
      size('Memory bandwidth:', stats.memoryBandwidth, '/s');
    if (stats.dirtyRate !== undefined) {
      const pageSize = stats.pageSize ?? DEFAULT_PAGE_SIZE;
      count('Dirty rate:', Math.round(stats.dirtyRate / pageSize), ' pages/s');
    }
    count('Page size:', stats.pageSize, ' bytes');
    count('Iteration:', stats.iteration);
    count('Postcopy requests:', stats.postcopyRequests);
  }
  if (stats.diskTotal !== undefined) {
    size('File processed:', stats.diskProcessed ?? 0);
    size('File remaining:', stats.diskRemaining ?? 0);
    size('File total:', stats.diskTotal);
    if (stats.diskBandwidth !== undefined && stats.diskBandwidth !== 0)
      size('File bandwidth:', stats.diskBandwidth, '/s');
  }
  count('Constant pages:', stats.constantPages);
  count('Normal pages:', stats.normalPages);
  size('Normal data:', stats.normalData);
  // libvirt has one downtime figure whose label depends on whether the job has ended.
  if (stats.type === 'Completed') ms('Total downtime:', stats.totalDowntimeMs);
  else ms('Expected downtime:', stats.expectedDowntimeMs);
  ms('Downtime w/o network:', stats.downtimeNetMs);
  ms('Setup time:', stats.setupTimeMs);
  if (stats.autoConvergeThrottle !== undefined)
    lines.push(
      `${label('Auto converge throttle:')}${String(stats.autoConvergeThrottle).padEnd(13)}`,
    );
  if (stats.error !== undefined) lines.push(`${label('Error message:')}${stats.error}`);
  return lines.join('\n') + '\n\n';
}

/** `%-17s ` : the label padded to 17 characters (longer ones are not cut), then one space. */
function label(text: string): string {
  return `${text.padEnd(17)} `;
}
