/**
 * `ferry evacuate HOST`, `ferry balance`, `ferry consolidate`: ferryd plans the moves
 * (fleet.plan, changing nothing), the plan is printed, and with --execute it is carried out
 * (runPlan, fleet-run.ts). Without --execute the command ends with the dry-run line.
 * @module
 */
import type { Command } from 'commander';
import type { Plan, PlanParams } from '../../rpc/schema/fleet-plan.js';
import { parseWholeNumber, type CommandContext } from '../context.js';
import { DRY_RUN_LINE, formatPlan } from '../format/plan.js';
import { runPlan } from './fleet-run.js';

interface RunOpts {
  execute?: boolean;
  keepGoing?: boolean;
  json?: boolean;
}

function runOptions(cmd: Command): Command {
  return cmd
    .option('--execute', 'carry the plan out (default: only show it)')
    .option('--keep-going', 'with --execute: go on with the other moves when one fails')
    .option('--json', 'print the plan as JSON');
}

async function planAndMaybeRun(
  ctx: CommandContext,
  params: PlanParams,
  opts: RunOpts,
  record: boolean,
): Promise<void> {
  const plan: Plan = await (await ctx.connect()).call('fleet.plan', params);
  ctx.out(opts.json === true ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  if (opts.execute !== true) {
    if (opts.json !== true) ctx.out(`\n${DRY_RUN_LINE}\n`);
    return;
  }
  if (plan.moves.length === 0) return;
  // runPlan throws (exit 1, naming the first failed move) when a move failed.
  await runPlan(ctx, plan, { keepGoing: opts.keepGoing === true, record });
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerFleetPlans(program: Command, ctx: CommandContext): void {
  runOptions(
    program
      .command('evacuate')
      .description(
        'move every running guest (live) and persistent shut-off guest (offline) off HOST, spread across the fleet',
      )
      .argument(
        '<host>',
        'host name, fleet id or URI of the host to empty (with --undo: to refill)',
      )
      .option('--to <host>', 'only onto this host (repeat for several)', collect)
      .option('--return', 'with --execute: remember where each guest came from, for --undo')
      .option('--undo', 'bring back the guests an evacuation with --return moved off HOST'),
  ).action(
    async (host: string, opts: RunOpts & { to?: string[]; return?: boolean; undo?: boolean }) => {
      if (opts.undo === true && opts.to !== undefined)
        throw new Error('--undo brings guests back to HOST: --to does not apply');
      const params: PlanParams =
        opts.undo === true
          ? { kind: 'undo', host }
          : { kind: 'evacuate', host, ...(opts.to === undefined ? {} : { to: opts.to }) };
      await planAndMaybeRun(ctx, params, opts, opts.return === true && opts.undo !== true);
    },
  );

  runOptions(
    program
      .command('balance')
      .description('even out memory (and vCPU) use across the fleet with as few moves as possible')
      .option('--max-moves <n>', 'at most this many moves (default 10)'),
  ).action(async (opts: RunOpts & { maxMoves?: string }) => {
    const params: PlanParams = {
      kind: 'balance',
      ...(opts.maxMoves === undefined
        ? {}
        : { maxMoves: parseWholeNumber(opts.maxMoves, '--max-moves', 1, 1000) }),
    };
    await planAndMaybeRun(ctx, params, opts, false);
  });

  runOptions(
    program
      .command('consolidate')
      .description('pack guests onto fewer hosts so the emptied ones can be powered off')
      .option('--keep <n>', 'keep at least this many hosts in use (default 1)'),
  ).action(async (opts: RunOpts & { keep?: string }) => {
    const params: PlanParams = {
      kind: 'consolidate',
      ...(opts.keep === undefined ? {} : { keep: parseWholeNumber(opts.keep, '--keep', 1, 1000) }),
    };
    await planAndMaybeRun(ctx, params, opts, false);
  });
}
