/**
 * domjobinfo, domjobabort, migrate-setmaxdowntime, migrate-getmaxdowntime, migrate-setspeed,
 * migrate-getspeed, migrate-postcopy: the running migration job, seen and steered from any
 * shell, in virsh's words and layouts.
 * @module
 */
import type { Command } from 'commander';
import { domainArg, domainCommand, parseWholeNumber, type CommandContext } from '../context.js';
import { withDomainLookup } from '../errors.js';
import { formatJobInfo } from '../format/jobinfo.js';

/**
 * The domain and one more value, each given positionally or by option, the way virsh fills
 * `<domain> <value>` (`--domain X 500` and `X --downtime 500` both work).
 */
function domainAndValue(
  command: string,
  name: string,
  positionals: readonly (string | undefined)[],
  opts: { domain?: string } & Record<string, string | undefined>,
): [string, string] {
  const rest = positionals.filter((p): p is string => p !== undefined);
  const domain = domainArg(opts.domain === undefined ? rest.shift() : undefined, opts);
  const value = opts[name] ?? rest.shift();
  if (value === undefined) throw new Error(`command '${command}' requires <${name}> option`);
  if (rest.length > 0) throw new Error(`unexpected data '${rest.join(' ')}'`);
  return [domain, value];
}

type DomainOpts = { domain?: string };

/** Registers the job and migration-tuning commands. */
export function registerJobs(program: Command, ctx: CommandContext): void {
  domainCommand(program, 'domjobinfo', 'domain job information')
    .option('--completed', 'return statistics of a recently completed job')
    .option('--anystats', 'print statistics for any kind of job (even failed ones)')
    .action(
      async (
        pos: string | undefined,
        opts: DomainOpts & { completed?: boolean; anystats?: boolean },
      ) => {
        const domain = domainArg(pos, opts);
        const completed = opts.completed === true;
        const stats = await withDomainLookup(async () =>
          (await ctx.connect()).call('job.info', { domain, completed }),
        );
        ctx.out(formatJobInfo(stats, { completed, anyStats: opts.anystats === true }));
      },
    );

  // Commands that print nothing but virsh's blank line on success.
  domainCommand(program, 'domjobabort', 'abort active domain job')
    .option('--postcopy', 'interrupt post-copy migration')
    .action(async (pos: string | undefined, opts: DomainOpts & { postcopy?: boolean }) => {
      const domain = domainArg(pos, opts);
      // Only sent when given, so a ferryd without the option still answers plain aborts.
      const params = opts.postcopy === true ? { domain, postcopy: true } : { domain };
      await withDomainLookup(async () => (await ctx.connect()).call('job.abort', params));
      ctx.out('\n');
    });
  domainCommand(
    program,
    'migrate-postcopy',
    'Switch running migration from pre-copy to post-copy',
  ).action(async (pos: string | undefined, opts: DomainOpts) => {
    const domain = domainArg(pos, opts);
    await withDomainLookup(async () => (await ctx.connect()).call('job.postcopy', { domain }));
    ctx.out('\n');
  });

  domainCommand(program, 'migrate-setmaxdowntime', 'set maximum tolerable downtime')
    .argument('[downtime]', 'maximum tolerable downtime (in milliseconds) for migration')
    .option('--downtime <number>', 'maximum tolerable downtime (in milliseconds) for migration')
    .action(
      async (
        a: string | undefined,
        b: string | undefined,
        opts: DomainOpts & { downtime?: string },
      ) => {
        const [domain, text] = domainAndValue('migrate-setmaxdowntime', 'downtime', [a, b], opts);
        const downtimeMs = parseWholeNumber(text, 'downtime', 0);
        if (downtimeMs < 1) throw new Error('migrate: Invalid downtime');
        await withDomainLookup(async () =>
          (await ctx.connect()).call('migration.setMaxDowntime', { domain, downtimeMs }),
        );
        ctx.out('\n');
      },
    );

  domainCommand(program, 'migrate-getmaxdowntime', 'get maximum tolerable downtime').action(
    async (pos: string | undefined, opts: DomainOpts) => {
      const domain = domainArg(pos, opts);
      const { downtimeMs } = await withDomainLookup(async () =>
        (await ctx.connect()).call('migration.getMaxDowntime', { domain }),
      );
      ctx.out(`${downtimeMs}\n\n`);
    },
  );

  domainCommand(program, 'migrate-setspeed', 'Set the maximum migration bandwidth')
    .argument('[bandwidth]', 'migration bandwidth limit in MiB/s')
    .option('--bandwidth <number>', 'migration bandwidth limit in MiB/s')
    .action(
      async (
        a: string | undefined,
        b: string | undefined,
        opts: DomainOpts & { bandwidth?: string },
      ) => {
        const [domain, text] = domainAndValue('migrate-setspeed', 'bandwidth', [a, b], opts);
        const bandwidthMiBs = parseWholeNumber(text, 'bandwidth', 0);
        await withDomainLookup(async () =>
          (await ctx.connect()).call('migration.setSpeed', { domain, bandwidthMiBs }),
        );
        ctx.out('\n');
      },
    );

  domainCommand(program, 'migrate-getspeed', 'Get the maximum migration bandwidth').action(
    async (pos: string | undefined, opts: DomainOpts) => {
      const domain = domainArg(pos, opts);
      const { bandwidthMiBs } = await withDomainLookup(async () =>
        (await ctx.connect()).call('migration.getSpeed', { domain }),
      );
      ctx.out(`${bandwidthMiBs}\n\n`);
    },
  );
}
