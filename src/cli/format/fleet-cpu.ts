/**
 * What `ferry fleet cpu-baseline` prints: the baseline `<cpu>`, the hosts' models, the host ×
 * host matrix, the guests some host cannot run, and what --apply changed.
 * @module
 */
import type { z } from 'zod';
import type { FLEET_PLAN_METHODS } from '../../rpc/schema/fleet-plan.js';
import { formatTable } from './table.js';

export type FleetCpuBaselineResult = z.output<
  (typeof FLEET_PLAN_METHODS)['fleet.cpuBaseline']['result']
>;

/** Features named in a matrix cell; longer lists are given in full under the table. */
const CELL_FEATURES = 3;

function cell(entry: { ok: boolean; missing: string[] } | undefined): string {
  if (entry === undefined) return '-';
  if (entry.ok) return 'yes';
  if (entry.missing.length === 0) return 'no';
  const shown = entry.missing.slice(0, CELL_FEATURES).join(', ');
  const more = entry.missing.length - CELL_FEATURES;
  return `no: missing ${shown}${more > 0 ? `, +${more} more` : ''}`;
}

/** One matrix row per host: can its host-model CPU run on each column's host. */
function matrixText(r: FleetCpuBaselineResult): string {
  const names = r.hosts.map((h) => h.host);
  const find = (from: string, to: string): FleetCpuBaselineResult['matrix'][number] | undefined =>
    r.matrix.find((m) => m.from === from && m.to === to);
  const rows = names.map((from) => [from, ...names.map((to) => cell(find(from, to)))]);
  const long = r.matrix.filter((m) => m.missing.length > CELL_FEATURES);
  return [
    "Can the row's host-model CPU run on the column's host:\n",
    formatTable(['Host', ...names], rows),
    ...long.map((m) => `${m.from} on ${m.to} misses: ${m.missing.join(', ')}\n`),
    ...(long.length === 0 ? [] : ['\n']),
  ].join('');
}

function guestsText(r: FleetCpuBaselineResult): string {
  if (r.guests.length === 0) return 'Every guest can run on every host.\n';
  const lines = ['Guests some host cannot run:'];
  for (const g of r.guests) {
    for (const c of g.cannotRunOn)
      lines.push(`  ${g.guest} (on ${g.host}) cannot run on ${c.host}: ${c.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The line --apply prints for each guest it changed. */
export function appliedLine(guest: string, host: string, model: string): string {
  return `Domain '${guest}' on ${host}: CPU set to the fleet baseline (${model}); takes effect at its next start\n`;
}

export function formatFleetCpuBaseline(r: FleetCpuBaselineResult): string {
  const width = Math.max(...r.hosts.map((h) => h.host.length));
  const parts = [
    r.cpuXml,
    '\n',
    `Fleet baseline: ${r.model} (${r.hosts.length} host${r.hosts.length === 1 ? '' : 's'})\n`,
    ...r.hosts.map((h) => `  ${h.host.padEnd(width)}   host-model ${h.model}\n`),
    ...(r.unreachable ?? []).map((u) => `  ${u.host}   not asked: ${u.error}\n`),
    '\n',
    r.hosts.length > 1 ? matrixText(r) : '',
    guestsText(r),
  ];
  if (r.applied.length > 0) {
    parts.push('\n', ...r.applied.map((a) => appliedLine(a.guest, a.host, r.model)));
  }
  return parts.join('');
}
