/**
 * The Fleet page's state: the members with their capacity (fleet.members), the plan being
 * looked at (fleet.plan), and its run (fleet.run with `fleet.progress` notifications on this
 * ferryd's connection; fleet.stop). One plan at a time: a new plan replaces one not running.
 * @module
 */
import { signal, type Signal } from '@preact/signals';
import { connectionTo } from '../rpc/connections.js';
import { errorMessage } from '../rpc/session.js';
import type { NotificationParams, Params, Result } from '../rpc/types.js';

export type FleetMembers = Result<'fleet.members'>;
export type Member = FleetMembers['members'][number];
export type UnreachableMember = FleetMembers['unreachable'][number];
export type Plan = Result<'fleet.plan'>;
export type PlanRequest = Params<'fleet.plan'>;
export type PlanKind = PlanRequest['kind'];
export type Progress = NotificationParams<'fleet.progress'>;

export const members = signal<FleetMembers | undefined>(undefined);
export const membersError = signal<string | undefined>(undefined);

export async function loadMembers(): Promise<void> {
  try {
    members.value = await connectionTo('local').call('fleet.members', {});
    membersError.value = undefined;
  } catch (err) {
    membersError.value = errorMessage(err);
  }
}

/** planned: drawn, not started; running: fleet.run under way; finished: its result is in. */
export type PlanStatus = 'planned' | 'running' | 'finished';

export interface PlanView {
  plan: Plan;
  /** Evacuations asked to remember where guests came from (fleet.run's `record`). */
  record: boolean;
  status: Signal<PlanStatus>;
  progress: Signal<Progress | undefined>;
  /** fleet.run or fleet.stop failed (not a move: those are in the progress). */
  error: Signal<string | undefined>;
  stopping: Signal<boolean>;
}

export const current = signal<PlanView | undefined>(undefined);
/** Which form is planning now, so only its button waits. */
export const planning = signal<PlanKind | undefined>(undefined);
/** The last fleet.plan failure, by the form that asked. */
export const planErrors = signal<Partial<Record<PlanKind, string>>>({});

let listening = false;

/** Progress of the plan on view; a late notification never overwrites the final result. */
function listen(): void {
  if (listening) return;
  listening = true;
  connectionTo('local').on('fleet.progress', (p) => {
    const view = current.value;
    if (view === undefined || view.plan.id !== p.planId) return;
    if (view.progress.value?.finished === true) return;
    view.progress.value = p;
  });
}

export function isRunning(): boolean {
  return current.value?.status.value === 'running';
}

/** Asks for a plan; it replaces the one on view unless that one runs. */
export async function makePlan(request: PlanRequest, record: boolean): Promise<void> {
  if (isRunning()) return;
  planning.value = request.kind;
  planErrors.value = { ...planErrors.value, [request.kind]: undefined };
  try {
    const plan = await connectionTo('local').call('fleet.plan', request);
    current.value = {
      plan,
      record: record && plan.kind === 'evacuate',
      status: signal('planned'),
      progress: signal(undefined),
      error: signal(undefined),
      stopping: signal(false),
    };
  } catch (err) {
    planErrors.value = { ...planErrors.value, [request.kind]: errorMessage(err) };
  } finally {
    planning.value = undefined;
  }
}

export function discardPlan(): void {
  if (!isRunning()) current.value = undefined;
}

/** Runs the plan on view; resolves when it has finished (or could not run). */
export async function runPlan(keepGoing: boolean): Promise<void> {
  const view = current.value;
  if (view === undefined || view.status.value !== 'planned') return;
  listen();
  view.status.value = 'running';
  view.error.value = undefined;
  try {
    const result = await connectionTo('local').call('fleet.run', {
      planId: view.plan.id,
      keepGoing,
      record: view.record,
    });
    view.progress.value = result;
    view.status.value = 'finished';
  } catch (err) {
    view.error.value = errorMessage(err);
    // Nothing ran when no progress came: the plan may be tried again. Otherwise it is over
    // (the connection closing stops a plan), and the result section says what is known.
    view.status.value = view.progress.value === undefined ? 'planned' : 'finished';
  } finally {
    view.stopping.value = false;
    void loadMembers();
  }
}

export async function stopPlan(): Promise<void> {
  const view = current.value;
  if (view === undefined || view.status.value !== 'running') return;
  view.stopping.value = true;
  try {
    await connectionTo('local').call('fleet.stop', { planId: view.plan.id });
  } catch (err) {
    view.error.value = errorMessage(err);
    view.stopping.value = false;
  }
}
