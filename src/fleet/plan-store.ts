/**
 * The plans fleet.plan made, kept in memory for fleet.run: a plan runs as it was shown, or not
 * at all. Each keeps how to reach the hosts it names. Plans expire after 30 minutes (the fleet
 * will have changed); a plan runs at most once at a time.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { FerryError } from '../common/errors.js';
import type { Plan } from '../rpc/schema/fleet-plan.js';

/** How to reach a host a plan names (by its hostname). */
export interface PlanHost {
  /** The fleet id ('local' for this ferryd). */
  readonly id: string;
  /** The URI the other members reach it by. */
  readonly uri: string;
}

export interface PlanRecord {
  readonly plan: Plan;
  /** Every host the plan names, by hostname. */
  readonly hosts: ReadonlyMap<string, PlanHost>;
  running: boolean;
}

export const PLAN_LIFETIME_MS = 30 * 60 * 1000;

export class PlanStore {
  readonly #plans = new Map<string, { record: PlanRecord; expires: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A fresh plan id. */
  newId(): string {
    return randomUUID();
  }

  put(plan: Plan, hosts: ReadonlyMap<string, PlanHost>): PlanRecord {
    this.#expire();
    const record: PlanRecord = { plan, hosts, running: false };
    this.#plans.set(plan.id, { record, expires: this.#now() + PLAN_LIFETIME_MS });
    return record;
  }

  /** The plan with this id; an unknown or expired id is INVALID_ARG saying so. */
  get(id: string): PlanRecord {
    this.#expire();
    const entry = this.#plans.get(id);
    if (entry === undefined)
      throw new FerryError(
        'INVALID_ARG',
        `No plan with id '${id}' (plans are kept ${PLAN_LIFETIME_MS / 60000} minutes): plan again`,
      );
    return entry.record;
  }

  #expire(): void {
    const now = this.#now();
    for (const [id, entry] of this.#plans)
      if (entry.expires <= now && !entry.record.running) this.#plans.delete(id);
  }
}
