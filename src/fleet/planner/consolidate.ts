/**
 * Consolidate: empty the least-used members so they can be powered off. A host is emptied
 * only when every guest on it can go, each best-fit (the target with the least free memory
 * that still fits with headroom) onto a host that stays in use; never fewer than `keep`
 * hosts in use. A host that receives guests stays in use (its guests would move twice).
 * @module
 */
import type { FleetGuest } from '../../rpc/schema/fleet-plan.js';
import { FleetState, needKiB } from './fleet-state.js';
import { placeGuest } from './evacuate.js';
import { pct } from './headroom.js';
import type { Draft, DraftMove, PlannerInput } from './types.js';

export const DEFAULT_KEEP = 1;

export function planConsolidate(input: PlannerInput, req: { keep?: number }): Draft {
  const keep = req.keep ?? DEFAULT_KEEP;
  const before = FleetState.from(input.hosts);
  let state = before;
  const all = [...state.hosts.values()];
  const alreadyEmpty = all.filter((h) => h.guests.length === 0).map((h) => h.name);
  const inUse = all
    .filter((h) => h.guests.length > 0)
    .sort(
      (a, b) =>
        state.memoryShare(a.name) - state.memoryShare(b.name) ||
        a.guests.length - b.guests.length ||
        a.name.localeCompare(b.name),
    )
    .map((h) => h.name);
  const emptied: string[] = [];
  const receivers = new Set<string>();
  const moves: DraftMove[] = [];
  const summary: string[] = [];
  for (const name of inUse) {
    if (inUse.length - emptied.length <= keep) break;
    if (receivers.has(name)) continue;
    const targets = inUse.filter((t) => t !== name && !emptied.includes(t));
    const trial = state.clone();
    const tried: DraftMove[] = [];
    let blocker: string | undefined;
    const guests = [...trial.host(name).guests].sort((a, b) => needKiB(b) - needKiB(a));
    const leastRoom = (g: FleetGuest, a: string, b: string): boolean => {
      const fa = trial.freeAfterKiB(g, a);
      const fb = trial.freeAfterKiB(g, b);
      return fa !== fb ? fa < fb : a < b;
    };
    for (const g of guests) {
      const placed = placeGuest(input, trial, g, name, targets, leastRoom, 'best fit');
      if ('why' in placed) {
        blocker = `${g.name} cannot go (${placed.why})`;
        break;
      }
      tried.push(placed);
    }
    if (blocker !== undefined) {
      summary.push(`${name} stays in use: ${blocker}`);
      continue;
    }
    state = trial;
    emptied.push(name);
    moves.push(...tried);
    for (const m of tried) receivers.add(m.to);
  }
  const off = emptied.length + alreadyEmpty.length;
  summary.unshift(
    emptied.length === 0
      ? `No host can be emptied (keeping at least ${keep} in use)`
      : `Hosts emptied: ${emptied.join(', ')} (the least used first: ${emptied.map((h) => `${h} ${pct(before.memoryShare(h))}`).join(', ')})`,
    `${off} of ${all.length} hosts can be powered off` +
      (alreadyEmpty.length === 0 ? '' : ` (${alreadyEmpty.join(', ')} already empty)`),
  );
  return {
    kind: 'consolidate',
    title: `consolidate (keep ${keep})`,
    moves,
    unmovable: [],
    summary,
  };
}
