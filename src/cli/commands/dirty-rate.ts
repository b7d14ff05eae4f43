/**
 * domdirtyrate-calc and domstats --dirtyrate: the guest's memory dirty rate, measured by QEMU
 * and shown in virsh's words and layout.
 * @module
 */
import type { Command } from 'commander';
import { domainArg, domainCommand, parseWholeNumber, type CommandContext } from '../context.js';
import { withDomainLookup } from '../errors.js';
import { formatDomainStats } from '../format/domstats.js';

const MODES = ['page-sampling', 'dirty-bitmap', 'dirty-ring'] as const;
type Mode = (typeof MODES)[number];

function isMode(text: string): text is Mode {
  return (MODES as readonly string[]).includes(text);
}

interface CalcOpts {
  domain?: string;
  seconds?: string;
  mode?: string;
}

interface StatsOpts {
  dirtyrate?: boolean;
  listActive?: boolean;
  listInactive?: boolean;
}

/** Registers domdirtyrate-calc and domstats. */
export function registerDirtyRate(program: Command, ctx: CommandContext): void {
  domainCommand(program, 'domdirtyrate-calc', "Calculate a vm's memory dirty rate")
    .argument('[seconds]', 'calculate memory dirty rate within specified seconds (1-60)')
    .option('--seconds <number>', 'calculate memory dirty rate within specified seconds (1-60)')
    .option('--mode <string>', 'page-sampling (default), dirty-bitmap or dirty-ring')
    .action(async (pos: string | undefined, secs: string | undefined, opts: CalcOpts) => {
      const domain = domainArg(pos, opts);
      const text = opts.seconds ?? secs;
      const seconds = text === undefined ? 1 : parseWholeNumber(text, 'seconds', 0);
      const mode = opts.mode ?? 'page-sampling';
      if (!isMode(mode)) throw new Error(`Unknown calculation mode '${mode}'`);
      await withDomainLookup(async () =>
        (await ctx.connect()).call('domain.dirtyRateCalc', { domain, seconds, mode }),
      );
      ctx.out("Start to calculate domain's memory dirty rate successfully.\n\n");
    });

  program
    .command('domstats')
    .description('get statistics about one or multiple domains')
    .argument('[domains...]', 'list of domains to get stats for (default: every domain)')
    .option('--dirtyrate', 'report domain dirty rate information (the only group Ferry has)')
    .option('--list-active', 'list only active domains')
    .option('--list-inactive', 'list only inactive domains')
    .action(async (names: string[], opts: StatsOpts) => {
      const listing = opts.listActive === true || opts.listInactive === true;
      if (listing && names.length > 0)
        throw new Error('domain list and --list-* options are mutually exclusive');
      const { records } = await withDomainLookup(async () =>
        (await ctx.connect()).call('domain.stats', {
          domains: names,
          dirtyrate: true,
          active: !listing || opts.listActive === true,
          inactive: !listing || opts.listInactive === true,
        }),
      );
      ctx.out(formatDomainStats(records));
    });
}
