/**
 * The Fleet page's figures, DOM-free so node:test checks them: a host's capacity bars
 * (memory, vCPUs, load), each move's state as the diagram colours it, a run's counts and the
 * one-line summaries the progress and result sections show.
 * @module
 */
import { formatKiB, formatMs } from './format.js';

/** A guest as host.capacity reports it (the fields the figures need). */
export interface CapacityGuest {
  state: string;
  vcpus: number;
}

export interface CapacityInput {
  cpus: number;
  load1: number;
  memoryKiB: number;
  freeMemoryKiB: number;
  guests: readonly CapacityGuest[];
}

/** One bar: value of max, a low/high mark for `<meter>`, and the words beside it. */
export interface Bar {
  value: number;
  max: number;
  /** value ÷ max as a whole percent (may exceed 100: overcommitted vCPUs, high load). */
  percent: number;
  text: string;
}

export interface CapacityBars {
  memory: Bar;
  vcpus: Bar;
  load: Bar;
}

/** Guests that hold memory and CPUs: running or paused (a shut-off one holds nothing). */
export function isActive(state: string): boolean {
  return state !== 'shut off' && state !== 'crashed';
}

function percentOf(value: number, max: number): number {
  return max > 0 ? Math.round((value / max) * 100) : 0;
}

/** The three bars of a host: memory used of offered, active vCPUs of CPUs, load of CPUs. */
export function capacityBars(c: CapacityInput): CapacityBars {
  const used = Math.max(0, c.memoryKiB - c.freeMemoryKiB);
  const vcpus = c.guests.filter((g) => isActive(g.state)).reduce((n, g) => n + g.vcpus, 0);
  return {
    memory: {
      value: used,
      max: c.memoryKiB,
      percent: percentOf(used, c.memoryKiB),
      text: `${formatKiB(used)} of ${formatKiB(c.memoryKiB)} (${formatKiB(c.freeMemoryKiB)} free)`,
    },
    vcpus: {
      value: vcpus,
      max: c.cpus,
      percent: percentOf(vcpus, c.cpus),
      text: `${vcpus} vCPU${vcpus === 1 ? '' : 's'} on ${c.cpus} CPU${c.cpus === 1 ? '' : 's'}`,
    },
    load: {
      value: c.load1,
      max: c.cpus,
      percent: percentOf(c.load1, c.cpus),
      text: `load ${c.load1.toFixed(2)} on ${c.cpus} CPU${c.cpus === 1 ? '' : 's'}`,
    },
  };
}

export type MoveState = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';
/** What the diagram shows for a move: `planned` before the plan runs. */
export type ArrowState = MoveState | 'planned';

export interface MoveProgressInput {
  order: number;
  guest: string;
  state: MoveState;
  percent: number;
  etaMs?: number | undefined;
  downtimeMs?: number | undefined;
  elapsedMs?: number | undefined;
  error?: string | undefined;
}

export interface ProgressInput {
  moves: readonly MoveProgressInput[];
  overallPercent: number;
  overallEtaMs?: number | undefined;
  elapsedMs: number;
  finished: boolean;
  stoppedBecause?: string | undefined;
}

/** Each move's state by its order; every move `planned` while there is no progress. */
export function arrowStates(
  orders: readonly number[],
  progress: ProgressInput | undefined,
): Map<number, ArrowState> {
  const byOrder = new Map(progress?.moves.map((m) => [m.order, m.state]));
  return new Map(
    orders.map((o) => [o, progress === undefined ? 'planned' : (byOrder.get(o) ?? 'pending')]),
  );
}

export type StateCounts = Record<MoveState, number>;

export function countStates(moves: readonly { state: MoveState }[]): StateCounts {
  const counts: StateCounts = { pending: 0, running: 0, completed: 0, failed: 0, skipped: 0 };
  for (const m of moves) counts[m.state]++;
  return counts;
}

/** A move's line beside its bar: "running · 45 % · ETA 12 s", "completed · downtime 80 ms". */
export function moveStatus(m: MoveProgressInput): string {
  switch (m.state) {
    case 'running':
      return `running · ${Math.floor(m.percent)} % · ETA ${m.etaMs === undefined ? '—' : formatMs(m.etaMs)}`;
    case 'completed':
      return m.downtimeMs === undefined
        ? 'completed'
        : `completed · downtime ${formatMs(m.downtimeMs)}`;
    case 'failed':
      return m.error === undefined ? 'failed' : `failed: ${m.error}`;
    case 'skipped':
      return 'skipped';
    case 'pending':
      return 'waiting';
  }
}

/** The overall line: "2 of 5 moved · 1 running · 40 % · ETA 30 s". */
export function overallStatus(p: ProgressInput): string {
  const c = countStates(p.moves);
  const parts = [`${c.completed} of ${p.moves.length} moved`];
  if (c.running > 0) parts.push(`${c.running} running`);
  if (c.failed > 0) parts.push(`${c.failed} failed`);
  parts.push(`${Math.floor(p.overallPercent)} %`);
  if (!p.finished)
    parts.push(`ETA ${p.overallEtaMs === undefined ? '—' : formatMs(p.overallEtaMs)}`);
  return parts.join(' · ');
}

/** The result's headline: "2 moved, 0 failed, 1 skipped in 12.3 s". */
export function resultLine(p: ProgressInput): string {
  const c = countStates(p.moves);
  return `${c.completed} moved, ${c.failed} failed, ${c.skipped + c.pending} skipped in ${formatMs(p.elapsedMs)}`;
}
