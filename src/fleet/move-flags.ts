/**
 * The migration flags a fleet move uses, the same for its preflight (in the plan) and its
 * run: live with the automatic policy for running/paused guests (a persistent guest moves for
 * good, a transient one stays transient), offline for persistent shut-off guests.
 * @module
 */
import type { FleetGuest } from '../rpc/schema/fleet-plan.js';

export interface MoveFlags {
  live?: true;
  auto?: true;
  offline?: true;
  persistent: boolean;
  undefineSource: boolean;
}

export function moveFlags(
  guest: Pick<FleetGuest, 'persistent'>,
  mode: 'live' | 'offline',
): MoveFlags {
  if (mode === 'offline') return { offline: true, persistent: true, undefineSource: true };
  return {
    live: true,
    auto: true,
    persistent: guest.persistent,
    undefineSource: guest.persistent,
  };
}
