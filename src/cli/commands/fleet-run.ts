/**
 * Carrying out a fleet plan from the CLI (issue #8): fleet.run with one progress view for all
 * its moves; Ctrl-C calls fleet.stop. Placeholder until built.
 * @module
 */
import type { Plan, PlanProgress } from '../../rpc/schema/fleet-plan.js';
import type { CommandContext } from '../context.js';

export interface RunPlanOptions {
  keepGoing: boolean;
  /** --return: an evacuation records where each guest came from. */
  record: boolean;
}

/** Runs `plan` and resolves with its final progress; throws when it could not run. */
export function runPlan(
  _ctx: CommandContext,
  _plan: Plan,
  _options: RunPlanOptions,
): Promise<PlanProgress> {
  return Promise.reject(new Error('running a fleet plan is not built yet'));
}
