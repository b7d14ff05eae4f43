/**
 * fleet.run and fleet.stop: carry out a plan fleet.plan made (src/fleet/run-plan.ts), its
 * moves asked of each source host's ferryd (fleet-moves.ts), its progress sent as
 * `fleet.progress` notifications to the connection that asked. That connection closing
 * stops the plan as fleet.stop does: no new moves; those under way finish or roll back.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { PlanRun, type PlanStore, type ReturnBook } from '../fleet/index.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import { fleetMoveRunner, type FleetMoveServices } from './fleet-moves.js';
import type { ConnectionState } from './handlers.js';

type FleetRunHandlers = Pick<Handlers<Methods, ConnectionState>, 'fleet.run' | 'fleet.stop'>;

export interface FleetRunServices extends FleetMoveServices {
  plans: PlanStore;
  /** Where evacuations run with `record` remember each guest's home (ReturnRecords). */
  returns: ReturnBook;
}

export function createFleetRunHandlers(services: FleetRunServices): FleetRunHandlers {
  const { plans, returns } = services;
  /** Runs under way, by plan id. */
  const runs = new Map<string, PlanRun>();
  /** Plans carried out already: the fleet has changed since, so they are planned again. */
  const ran = new Set<string>();
  const log = services.local.log;
  return {
    'fleet.run': async (p, ctx) => {
      const record = plans.get(p.planId);
      if (record.running || runs.has(p.planId))
        throw new FerryError('OPERATION_INVALID', `Plan '${p.planId}' is already running`);
      if (ran.has(p.planId))
        throw new FerryError(
          'OPERATION_INVALID',
          `Plan '${p.planId}' has been carried out already: plan again`,
        );
      const run = new PlanRun({
        plan: record.plan,
        runMove: fleetMoveRunner(services, record),
        keepGoing: p.keepGoing,
        record: p.record,
        returns,
        onProgress: (progress) => {
          ctx.notify('fleet.progress', progress);
        },
      });
      record.running = true;
      ran.add(p.planId);
      runs.set(p.planId, run);
      const stopOnClose = ctx.onClose(() => {
        run.stop('the connection that ran the plan closed');
      });
      log.info({ planId: p.planId, title: record.plan.title }, 'fleet plan started');
      try {
        const result = await run.start();
        log.info(
          {
            planId: p.planId,
            moves: result.moves.map((m) => `${m.guest}:${m.state}`).join(' '),
            stoppedBecause: result.stoppedBecause,
          },
          'fleet plan finished',
        );
        return result;
      } finally {
        stopOnClose();
        runs.delete(p.planId);
        record.running = false;
      }
    },
    'fleet.stop': (p) => {
      // An unknown plan is an error; one that is not running (any more) has nothing to stop.
      plans.get(p.planId);
      const run = runs.get(p.planId);
      return { planId: p.planId, running: run?.stop('asked to stop (fleet.stop)') ?? 0 };
    },
  };
}
