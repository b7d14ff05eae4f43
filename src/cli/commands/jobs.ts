/**
 * domjobinfo, domjobabort, migrate-setmaxdowntime, migrate-getmaxdowntime, migrate-setspeed,
 * migrate-getspeed, migrate-postcopy: the running migration job, seen and steered from any
 * shell, in virsh's words and layouts.
 * @module
 */
import type { Command } from 'commander';
import { FerryError } from '../../common/errors.js';
import { domainArg, domainOption, type CommandContext } from '../context.js';
import { CommandError } from '../errors.js';
import { formatJobInfo } from '../format/jobinfo.js';

/**
 * The error to show for a failed migrate or job command: virsh reports these with libvirt's
 * message alone (one `error:` line, no "Failed to …" line above it).
 */
export function virshError(err: unknown): unknown {
  if (
    err instanceof FerryError &&
    err.code === 'NO_DOMAIN' &&
    typeof err.data?.['domain'] === 'string'
  ) {
    // virsh says only this when the lookup itself fails.
    return new CommandError(`failed to get domain '${err.data['domain']}'`, undefined);
  }
  return err;
}

/** Runs one RPC step, failing the virsh way (see virshError). */
export async function withVirshError<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw virshError(err);
  }
}

/** A whole number ≥ 0 given to option `<name>`, with virsh's complaint when it is not one. */
export function parseUnsigned(text: string, name: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new Error(`Numeric value '${text}' for <${name}> option is malformed or out of range`);
  }
  return n;
}

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
  program
    .command('domjobinfo')
    .description('domain job information')
    .argument('[domain]', 'domain name, id or uuid')
    .addOption(domainOption())
    .option('--completed', 'return statistics of a recently completed job')
    .option('--anystats', 'print statistics for any kind of job (even failed ones)')
    .action(
      async (
        pos: string | undefined,
        opts: DomainOpts & { completed?: boolean; anystats?: boolean },
      ) => {
        const domain = domainArg(pos, opts);
        const completed = opts.completed === true;
        const stats = await withVirshError(async () =>
          (await ctx.connect()).call('job.info', { domain, completed }),
        );
        ctx.out(formatJobInfo(stats, { completed, anyStats: opts.anystats === true }));
      },
    );

  // Commands that print nothing but virsh's blank line on success.
  const quiet = [
    ['domjobabort', 'abort active domain job', 'job.abort'],
    ['migrate-postcopy', 'Switch running migration from pre-copy to post-copy', 'job.postcopy'],
  ] as const;
  for (const [name, description, method] of quiet) {
    program
      .command(name)
      .description(description)
      .argument('[domain]', 'domain name, id or uuid')
      .addOption(domainOption())
      .action(async (pos: string | undefined, opts: DomainOpts) => {
        const domain = domainArg(pos, opts);
        await withVirshError(async () => (await ctx.connect()).call(method, { domain }));
        ctx.out('\n');
      });
  }

  program
    .command('migrate-setmaxdowntime')
    .description('set maximum tolerable downtime')
    .argument('[domain]', 'domain name, id or uuid')
    .addOption(domainOption())
    .argument('[downtime]', 'maximum tolerable downtime (in milliseconds) for migration')
    .option('--downtime <number>', 'maximum tolerable downtime (in milliseconds) for migration')
    .action(
      async (
        a: string | undefined,
        b: string | undefined,
        opts: DomainOpts & { downtime?: string },
      ) => {
        const [domain, text] = domainAndValue('migrate-setmaxdowntime', 'downtime', [a, b], opts);
        const downtimeMs = parseUnsigned(text, 'downtime');
        if (downtimeMs < 1) throw new Error('migrate: Invalid downtime');
        await withVirshError(async () =>
          (await ctx.connect()).call('migration.setMaxDowntime', { domain, downtimeMs }),
        );
        ctx.out('\n');
      },
    );

  program
    .command('migrate-getmaxdowntime')
    .description('get maximum tolerable downtime')
    .argument('[domain]', 'domain name, id or uuid')
    .addOption(domainOption())
    .action(async (pos: string | undefined, opts: DomainOpts) => {
      const domain = domainArg(pos, opts);
      const { downtimeMs } = await withVirshError(async () =>
        (await ctx.connect()).call('migration.getMaxDowntime', { domain }),
      );
      ctx.out(`${downtimeMs}\n\n`);
    });

  program
    .command('migrate-setspeed')
    .description('Set the maximum migration bandwidth')
    .argument('[domain]', 'domain name, id or uuid')
    .addOption(domainOption())
    .argument('[bandwidth]', 'migration bandwidth limit in MiB/s')
    .option('--bandwidth <number>', 'migration bandwidth limit in MiB/s')
    .action(
      async (
        a: string | undefined,
        b: string | undefined,
        opts: DomainOpts & { bandwidth?: string },
      ) => {
        const [domain, text] = domainAndValue('migrate-setspeed', 'bandwidth', [a, b], opts);
        const bandwidthMiBs = parseUnsigned(text, 'bandwidth');
        await withVirshError(async () =>
          (await ctx.connect()).call('migration.setSpeed', { domain, bandwidthMiBs }),
        );
        ctx.out('\n');
      },
    );

  program
    .command('migrate-getspeed')
    .description('Get the maximum migration bandwidth')
    .argument('[domain]', 'domain name, id or uuid')
    .addOption(domainOption())
    .action(async (pos: string | undefined, opts: DomainOpts) => {
      const domain = domainArg(pos, opts);
      const { bandwidthMiBs } = await withVirshError(async () =>
        (await ctx.connect()).call('migration.getSpeed', { domain }),
      );
      ctx.out(`${bandwidthMiBs}\n\n`);
    });
}
