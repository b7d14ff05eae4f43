/**
 * Evacuate a host: every running/paused guest (live) and persistent shut-off guest (offline)
 * leaves it. Placement spreads: each guest, largest first, goes to the compatible target with
 * the most free memory left after it (ties: fewest vCPUs per CPU), never below the target's
 * headroom; a guest no target can take stays, with the reason.
 * @module
 */
import type { FleetGuest } from '../../rpc/schema/fleet-plan.js';
import { FleetState, modeOf, needKiB } from './fleet-state.js';
import { headroomKiB, mib } from './headroom.js';
import { incompatibility, type Draft, type DraftMove, type PlannerInput } from './types.js';

export interface EvacuateRequest {
  /** The host to empty (a hostname of input.hosts). */
  host: string;
  /** The targets allowed (hostnames); default every other member. */
  to?: readonly string[];
}

/** Why no target took `g`: the preflight's reason when one for all, else each target's. */
export function noTargetReason(whyNot: ReadonlyMap<string, string>): string {
  const reasons = [...new Set(whyNot.values())];
  if (reasons.length === 1 && reasons[0] !== undefined) return reasons[0];
  return [...whyNot].map(([t, why]) => `${t}: ${why}`).join('; ');
}

/**
 * Places `g` (on `from`) among `targets` by `better` (true when it prefers its first target
 * to its second) and applies the move to `state`; returns the move with its reasons, or why no target can take it.
 */
export function placeGuest(
  input: PlannerInput,
  state: FleetState,
  g: FleetGuest,
  from: string,
  targets: readonly string[],
  better: (g: FleetGuest, a: string, b: string) => boolean,
  chosenWhy: string,
): DraftMove | { why: string } {
  const how = modeOf(g);
  if ('why' in how) return { why: how.why };
  const whyNot = new Map<string, string>();
  const fitting: string[] = [];
  for (const t of targets) {
    const bad = incompatibility(input, g, t);
    if (bad !== undefined) whyNot.set(t, bad);
    else if (!state.fits(g, t))
      whyNot.set(
        t,
        `memory: would leave ${mib(state.freeAfterKiB(g, t))} free, below its headroom ${mib(headroomKiB(state.host(t).offeredKiB))}`,
      );
    else fitting.push(t);
  }
  if (targets.length === 0) return { why: 'no target host' };
  let best: string | undefined;
  for (const t of fitting) if (best === undefined || better(g, t, best)) best = t;
  if (best === undefined) return { why: noTargetReason(whyNot) };
  const to = best;
  const reasons = [
    how.mode === 'offline'
      ? `${chosenWhy}: shut off, moves offline (definition only) and takes no memory until started`
      : `${chosenWhy}: ${mib(state.freeAfterKiB(g, to))} free after it (headroom ${mib(headroomKiB(state.host(to).offeredKiB))})`,
  ];
  for (const t of fitting)
    if (t !== to) reasons.push(`not ${t}: ${mib(state.freeAfterKiB(g, t))} free after it`);
  for (const [t, why] of whyNot) reasons.push(`not ${t}: ${why}`);
  state.move(g, from, to);
  return { guest: g, from, to, mode: how.mode, reasons };
}

export function planEvacuate(input: PlannerInput, req: EvacuateRequest): Draft {
  const state = FleetState.from(input.hosts);
  const source = state.host(req.host);
  const targets = (req.to ?? [...state.hosts.keys()]).filter((t) => t !== req.host);
  const moves: DraftMove[] = [];
  const unmovable: Draft['unmovable'] = [];
  // Largest first: the big ones need the room; the small ones fill in around them.
  const guests = [...source.guests].sort(
    (a, b) => needKiB(b) - needKiB(a) || b.memoryKiB - a.memoryKiB || a.name.localeCompare(b.name),
  );
  const moreRoom = (g: FleetGuest, a: string, b: string): boolean => {
    const fa = state.freeAfterKiB(g, a);
    const fb = state.freeAfterKiB(g, b);
    if (fa !== fb) return fa > fb;
    return state.cpuShare(a) < state.cpuShare(b);
  };
  for (const g of guests) {
    const placed = placeGuest(input, state, g, req.host, targets, moreRoom, 'most room left');
    if ('why' in placed) unmovable.push({ guest: g.name, host: req.host, reason: placed.why });
    else moves.push(placed);
  }
  const title = `evacuate ${req.host}${req.to === undefined ? '' : ` to ${targets.join(', ')}`}`;
  const summary = [
    `${moves.length} of ${guests.length} guest${guests.length === 1 ? '' : 's'} leave ${req.host}` +
      (unmovable.length === 0 ? '' : `; ${unmovable.length} cannot move and stay`),
  ];
  return { kind: 'evacuate', title, moves, unmovable, summary };
}
