/**
 * `ferry fleet cpu-baseline [--apply GUEST]… [--json]`: the CPU every fleet host can run (what
 * VMware calls EVC), which host cannot run which, the guests that could not move somewhere, and
 * with --apply that CPU set in those guests' definitions (at their next start).
 * @module
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { formatFleetCpuBaseline } from '../format/fleet-cpu.js';

interface CpuBaselineOpts {
  apply: string[];
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerFleetCpu(parent: Command, ctx: CommandContext): void {
  parent
    .command('cpu-baseline')
    .description(
      'the CPU every fleet host can run (the baseline of their host-model CPUs), which host cannot run which, and the guests some host cannot run',
    )
    .option(
      '--apply <guest>',
      "set the baseline as this persistent guest's CPU (repeatable; takes effect at its next start)",
      collect,
      [],
    )
    .option('--json', 'print the answer as JSON')
    .action(async (opts: CpuBaselineOpts) => {
      const conn = await ctx.connect();
      const result = await conn.call(
        'fleet.cpuBaseline',
        opts.apply.length === 0 ? {} : { apply: opts.apply },
      );
      ctx.out(
        opts.json === true
          ? `${JSON.stringify(result, null, 2)}\n`
          : formatFleetCpuBaseline(result),
      );
    });
}
