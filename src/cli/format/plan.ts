/**
 * A fleet plan as `ferry evacuate/balance/consolidate` print it: the title, the moves in the
 * order they start (each move's reasons indented under it), the guests that cannot move, the
 * parallelism and why, the predicted total, each host's memory before → after, the summary.
 * @module
 */
import type { Plan } from '../../rpc/schema/fleet-plan.js';

export const DRY_RUN_LINE = 'Dry run: nothing was moved. Run again with --execute to carry it out.';

/** Milliseconds as the plan shows a duration: '850 ms', '2.4 s', '3 min 5 s'. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** KiB as '384 MiB' or '1.5 GiB'. */
export function formatKiB(kib: number): string {
  const mib = kib / 1024;
  if (Math.abs(mib) >= 1024) return `${(mib / 1024).toFixed(1).replace(/\.0$/, '')} GiB`;
  return `${Math.round(mib)} MiB`;
}

function table(
  header: readonly string[],
  rows: readonly { cells: string[]; under: string[] }[],
): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r.cells[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    ' ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ');
  const head = line(header);
  const out = [head, '-'.repeat(head.length + 2)];
  for (const r of rows) {
    out.push(line(r.cells));
    for (const u of r.under) out.push(`       ${u}`);
  }
  return out;
}

export function formatPlan(plan: Plan): string {
  const n = plan.moves.length;
  const lines = [`Plan: ${plan.title} — ${n} move${n === 1 ? '' : 's'} (plan ${plan.id})`, ''];
  if (n === 0) lines.push('No moves.');
  else
    lines.push(
      ...table(
        ['#', 'Guest', 'From', 'To', 'Mode', 'Predicted', 'Downtime'],
        plan.moves.map((m) => ({
          cells: [
            String(m.order),
            m.guest,
            m.from,
            m.to,
            m.mode,
            formatDuration(m.predictedMs),
            m.mode === 'offline' ? '-' : formatDuration(m.predictedDowntimeMs),
          ],
          under: m.reasons,
        })),
      ),
    );
  lines.push('');
  if (plan.unmovable.length > 0) {
    lines.push('Cannot move:');
    for (const u of plan.unmovable) lines.push(`  ${u.guest} (on ${u.host}): ${u.reason}`);
    lines.push('');
  }
  lines.push(`Parallel: ${plan.parallel} (${plan.parallelReason})`);
  lines.push(`Predicted total: ${(plan.predictedMs / 1000).toFixed(1)} s`);
  lines.push('', 'Memory used (before → after):');
  const width = Math.max(0, ...plan.hosts.map((h) => h.host.length));
  for (const h of plan.hosts)
    lines.push(
      `  ${h.host.padEnd(width)}  ${formatKiB(h.usedBeforeKiB)} → ${formatKiB(h.usedAfterKiB)} of ${formatKiB(h.memoryKiB)}; vCPUs ${h.vcpusBefore} → ${h.vcpusAfter} on ${h.cpus} CPU${h.cpus === 1 ? '' : 's'}`,
    );
  if (plan.summary.length > 0) lines.push('', ...plan.summary);
  return lines.join('\n') + '\n';
}
