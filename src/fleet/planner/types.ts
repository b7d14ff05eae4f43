/**
 * What the planner works from (measured and checked before, by the gatherer) and what each
 * kind of plan hands to the common finish (order, parallelism, prediction).
 * @module
 */
import type { FleetGuest, HostCapacity, PlanKind } from '../../rpc/schema/fleet-plan.js';

export interface PlannerInput {
  /** Every member's capacity (hosts named by capacity.hostname). */
  readonly hosts: readonly HostCapacity[];
  /**
   * The preflight's answer per candidate move, by {@link compatKey}: null when the move can
   * go, else the failing check ('cpu: …'). A pair never checked cannot go.
   */
  readonly compat: ReadonlyMap<string, string | null>;
  /** Link bandwidth (MiB/s) by {@link linkKey}. */
  readonly links: ReadonlyMap<string, number>;
  /** Dirty rate (MiB/s) by guest UUID; missing = not measured (0). */
  readonly dirty: ReadonlyMap<string, number>;
}

export function compatKey(uuid: string, to: string): string {
  return `${uuid}\u0000${to}`;
}

export function linkKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

/** Why `g` cannot go to `to` (the preflight's failing check), or undefined when it can. */
export function incompatibility(
  input: PlannerInput,
  g: FleetGuest,
  to: string,
): string | undefined {
  const answer = input.compat.get(compatKey(g.uuid, to));
  if (answer === undefined) return 'not checked';
  return answer ?? undefined;
}

export interface DraftMove {
  readonly guest: FleetGuest;
  readonly from: string;
  readonly to: string;
  readonly mode: 'live' | 'offline';
  readonly reasons: string[];
}

export interface DraftUnmovable {
  readonly guest: string;
  readonly host: string;
  readonly reason: string;
}

/** A plan's placements before order and parallelism are chosen. */
export interface Draft {
  readonly kind: PlanKind;
  readonly title: string;
  readonly moves: DraftMove[];
  readonly unmovable: DraftUnmovable[];
  readonly summary: string[];
}
