/**
 * Balance the fleet: lower the spread of memory used / offered (vCPUs / CPUs break ties) with
 * as few moves as possible — greedily the move that lowers the spread most, while it lowers
 * it by at least 5 percentage points, each guest moved at most once.
 * @module
 */
import type { FleetGuest } from '../../rpc/schema/fleet-plan.js';
import { FleetState, modeOf } from './fleet-state.js';
import { mib, pct } from './headroom.js';
import { incompatibility, type Draft, type DraftMove, type PlannerInput } from './types.js';

export const DEFAULT_MAX_MOVES = 10;
/** A move must lower the memory spread by this much to be worth a migration. */
export const MIN_SPREAD_GAIN = 0.05;
const EPSILON = 1e-9;

interface Candidate {
  g: FleetGuest;
  from: string;
  to: string;
  memory: number;
  cpu: number;
}

/** Spread after moving `g` from → to, the move undone again. */
function spreadWith(state: FleetState, g: FleetGuest, from: string, to: string) {
  state.move(g, from, to);
  const s = state.spread();
  state.move(g, to, from);
  return s;
}

function preferred(a: Candidate, b: Candidate): boolean {
  if (Math.abs(a.memory - b.memory) > EPSILON) return a.memory < b.memory;
  if (Math.abs(a.cpu - b.cpu) > EPSILON) return a.cpu < b.cpu;
  // Equal effect: the smaller guest is the quicker migration.
  return a.g.memoryKiB < b.g.memoryKiB;
}

export function planBalance(input: PlannerInput, req: { maxMoves?: number }): Draft {
  const maxMoves = req.maxMoves ?? DEFAULT_MAX_MOVES;
  const state = FleetState.from(input.hosts);
  const start = state.spread();
  const moves: DraftMove[] = [];
  const moved = new Set<string>();
  const busy = [...state.hosts.values()].flatMap((h) => h.guests.filter((g) => g.busy));
  while (moves.length < maxMoves) {
    const before = state.spread();
    let best: Candidate | undefined;
    for (const host of state.hosts.values())
      for (const g of host.guests) {
        // Only running guests carry load; shut-off ones weigh nothing where they are.
        const how = modeOf(g);
        if (moved.has(g.uuid) || 'why' in how || how.mode !== 'live') continue;
        for (const to of state.hosts.keys()) {
          if (to === host.name || incompatibility(input, g, to) !== undefined) continue;
          if (!state.fits(g, to)) continue;
          const s = spreadWith(state, g, host.name, to);
          const c = { g, from: host.name, to, memory: s.memory, cpu: s.cpu };
          if (best === undefined || preferred(c, best)) best = c;
        }
      }
    if (best === undefined || before.memory - best.memory < MIN_SPREAD_GAIN - EPSILON) break;
    const { g, from, to } = best;
    const fromBefore = state.memoryShare(from);
    const toBefore = state.memoryShare(to);
    state.move(g, from, to);
    moved.add(g.uuid);
    moves.push({
      guest: g,
      from,
      to,
      mode: 'live',
      reasons: [
        `spread ${pct(before.memory)} → ${pct(best.memory)} (memory used / offered)`,
        `${from} ${pct(fromBefore)} → ${pct(state.memoryShare(from))}, ${to} ${pct(toBefore)} → ${pct(state.memoryShare(to))}; ${mib(state.freeKiB(to))} free on ${to} after it`,
      ],
    });
  }
  const end = state.spread();
  const summary =
    moves.length === 0
      ? [
          `Spread ${pct(start.memory)} (memory used / offered): no move lowers it by ${pct(MIN_SPREAD_GAIN)} or more; nothing to move`,
        ]
      : [
          `Spread ${pct(start.memory)} → ${pct(end.memory)} (memory used / offered) with ${moves.length} move${moves.length === 1 ? '' : 's'}; vCPUs per CPU ${pct(start.cpu)} → ${pct(end.cpu)}`,
        ];
  if (moves.length === maxMoves) summary.push(`Stopped at --max-moves ${maxMoves}`);
  if (busy.length > 0)
    summary.push(`Left alone (a job holds them): ${busy.map((g) => g.name).join(', ')}`);
  return {
    kind: 'balance',
    title: `balance (at most ${maxMoves} move${maxMoves === 1 ? '' : 's'})`,
    moves,
    unmovable: [],
    summary,
  };
}
