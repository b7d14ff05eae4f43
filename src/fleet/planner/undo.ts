/**
 * Undo an evacuation: each guest recorded as moved off HOST (evacuate --return) comes back
 * when it is still on the host the evacuation put it on; guests found elsewhere are left and
 * named in the summary (their records stay).
 * @module
 */
import type { ReturnRecord } from '../return-records.js';
import { FleetState } from './fleet-state.js';
import { placeGuest } from './evacuate.js';
import type { Draft, DraftMove, PlannerInput } from './types.js';

export function planUndo(
  input: PlannerInput,
  req: { host: string; records: readonly ReturnRecord[] },
): Draft {
  const state = FleetState.from(input.hosts);
  const moves: DraftMove[] = [];
  const unmovable: Draft['unmovable'] = [];
  const summary: string[] = [];
  const only = (): boolean => true;
  for (const r of req.records) {
    const where = state.whereIs(r.uuid);
    const g = where?.guests.find((x) => x.uuid === r.uuid);
    if (where === undefined || g === undefined) {
      summary.push(`${r.guest}: not found on any member; left`);
      continue;
    }
    if (where.name === req.host) {
      summary.push(`${r.guest}: already on ${req.host}`);
      continue;
    }
    if (where.name !== r.to) {
      summary.push(`${r.guest}: on ${where.name}, not ${r.to} where the evacuation put it; left`);
      continue;
    }
    const placed = placeGuest(input, state, g, where.name, [req.host], only, 'back home');
    if ('why' in placed) unmovable.push({ guest: g.name, host: where.name, reason: placed.why });
    else moves.push(placed);
  }
  summary.unshift(
    `${moves.length} of ${req.records.length} recorded guest${req.records.length === 1 ? '' : 's'} return to ${req.host}`,
  );
  return { kind: 'undo', title: `undo the evacuation of ${req.host}`, moves, unmovable, summary };
}
