/**
 * virsh domstats' layout: `Domain: 'NAME'`, then one indented `group.field=value` line per
 * statistic, then a blank line; an inactive domain shows its header alone.
 * @module
 */
import type { DirtyRateStats, DomainStatsRecord } from '../../rpc/schema/dirty-rate.js';

/** The dirtyrate.* lines, in libvirt 9's order (megabytes_per_second only once measured). */
export function dirtyRateLines(d: DirtyRateStats): string[] {
  const lines = [
    `dirtyrate.calc_status=${d.calcStatus}`,
    `dirtyrate.calc_start_time=${d.calcStartTime}`,
    `dirtyrate.calc_period=${d.calcPeriod}`,
    `dirtyrate.calc_mode=${d.calcMode}`,
  ];
  if (d.megabytesPerSecond !== undefined)
    lines.push(`dirtyrate.megabytes_per_second=${d.megabytesPerSecond}`);
  return lines;
}

export function formatDomainStats(records: readonly DomainStatsRecord[]): string {
  return records
    .map((r) => {
      const lines = r.dirtyrate === undefined ? [] : dirtyRateLines(r.dirtyrate);
      return `Domain: '${r.name}'\n${lines.map((l) => `  ${l}\n`).join('')}\n`;
    })
    .join('');
}
