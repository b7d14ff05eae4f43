/**
 * Carrying out a fleet plan from the CLI (`--execute`): one `fleet.run` call that lasts as
 * long as the plan, its `fleet.progress` notifications drawn as one progress view
 * (src/cli/fleet-progress.ts). The first Ctrl-C asks ferryd to stop the plan (fleet.stop: no
 * new moves; those under way finish or roll back) and keeps showing them; a second one stops
 * waiting. A summary line ends it; a failed move makes the command fail (exit 1).
 * @module
 */
import { isatty } from 'node:tty';
import { FerryError, messageOf } from '../../common/errors.js';
import type { Plan, PlanProgress } from '../../rpc/schema/fleet-plan.js';
import type { CommandContext } from '../context.js';
import { barsView, linesView, moveLabel, type PlanView } from '../fleet-progress.js';

export interface RunPlanOptions {
  keepGoing: boolean;
  /** --return: an evacuation records where each guest came from. */
  record: boolean;
}

/** The terminal and signals runPlan uses; tests pass fakes. */
export interface PlanRunIo {
  /** stdout is a terminal: redrawn bars rather than plain lines. */
  readonly stdoutIsTTY: boolean;
  readonly stdout: NodeJS.WriteStream;
  /** Calls `cb` on SIGINT (instead of exiting) until the returned function is called. */
  onInterrupt(cb: () => void): () => void;
}

export function processPlanRunIo(): PlanRunIo {
  return {
    stdoutIsTTY: isatty(1),
    get stdout() {
      return process.stdout;
    },
    onInterrupt(cb) {
      process.on('SIGINT', cb);
      return () => process.off('SIGINT', cb);
    },
  };
}

/** `Evacuated h1`, `Brought back to h1`, `Balanced`, `Consolidated`. */
function doneTitle(plan: Plan): string {
  const first = plan.moves[0];
  switch (plan.kind) {
    case 'evacuate':
      return `Evacuated ${first?.from ?? plan.unmovable[0]?.host ?? plan.title.replace(/^evacuate\s+/, '')}`;
    case 'undo':
      return `Brought back to ${first?.to ?? plan.unmovable[0]?.host ?? plan.title}`;
    case 'balance':
      return 'Balanced';
    case 'consolidate':
      return 'Consolidated';
  }
}

/**
 * The closing lines: why it stopped early (if it did), then
 * `Evacuated h1: 5 moved, 0 failed, 1 left in place in 12.3 s` (left in place: the guests
 * the plan could not move and the moves skipped).
 */
export function summaryLines(plan: Plan, result: PlanProgress): string {
  const count = (state: PlanProgress['moves'][number]['state']): number =>
    result.moves.filter((m) => m.state === state).length;
  const left = plan.unmovable.length + count('skipped') + count('pending');
  const stopped = result.stoppedBecause === undefined ? '' : `Stopped: ${result.stoppedBecause}\n`;
  return `${stopped}${doneTitle(plan)}: ${count('completed')} moved, ${count('failed')} failed, ${left} left in place in ${(result.elapsedMs / 1000).toFixed(1)} s\n`;
}

/** The error that makes the command fail when a move failed, naming the first one. */
export function failureOf(result: PlanProgress): FerryError | undefined {
  const failed = result.moves.filter((m) => m.state === 'failed');
  const [first] = failed;
  if (first === undefined) return undefined;
  const others = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
  return new FerryError(
    'OPERATION_FAILED',
    `moving ${moveLabel(first)} failed: ${first.error ?? 'unknown error'}${others}`,
  );
}

/** Runs `plan` and resolves with its final progress; throws when it could not run or a move failed. */
export async function runPlan(
  ctx: CommandContext,
  plan: Plan,
  options: RunPlanOptions,
  io: PlanRunIo = processPlanRunIo(),
): Promise<PlanProgress> {
  const conn = await ctx.connect();
  const view: PlanView = io.stdoutIsTTY
    ? barsView(io.stdout, plan)
    : linesView((text) => ctx.out(text), plan);
  const stopProgress = conn.onNotification('fleet.progress', (progress) => {
    if (progress.planId === plan.id) view.update(progress);
  });
  let interrupts = 0;
  let stopWaiting: (err: Error) => void = () => undefined;
  const detached = new Promise<never>((_, reject) => (stopWaiting = reject));
  detached.catch(() => undefined); // settled through the race below, or never
  const stopInterrupts = io.onInterrupt(() => {
    interrupts++;
    if (interrupts > 1) {
      stopWaiting(
        new FerryError(
          'OPERATION_FAILED',
          'not waiting for the moves under way: they finish or roll back on their own',
        ),
      );
      return;
    }
    conn.call('fleet.stop', { planId: plan.id }).then(
      (r) => {
        view.message(
          `stopping: no new moves; ${r.running} under way finish or roll back (Ctrl-C again to stop waiting)\n`,
        );
      },
      (err: unknown) => {
        view.message(`warning: cannot stop the plan: ${messageOf(err)}\n`);
      },
    );
  });
  let result: PlanProgress;
  try {
    result = await Promise.race([
      conn.call('fleet.run', {
        planId: plan.id,
        keepGoing: options.keepGoing,
        record: options.record,
      }),
      detached,
    ]);
  } catch (err) {
    view.finish();
    throw err;
  } finally {
    stopInterrupts();
    stopProgress();
  }
  view.finish(result);
  ctx.out(summaryLines(plan, result));
  const failure = failureOf(result);
  if (failure !== undefined) throw failure;
  return result;
}
