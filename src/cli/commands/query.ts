/**
 * list, dominfo, domstate, dumpxml: read-only views, in virsh's exact layouts.
 * @module
 */
import type { Command } from 'commander';
import { domainArg, domainCommand, type CommandContext } from '../context.js';
import { withContext } from '../errors.js';
import { formatKeyValues, formatTable } from '../format/table.js';

interface ListOpts {
  all?: boolean;
  inactive?: boolean;
  name?: boolean;
  uuid?: boolean;
}

export function registerQueries(program: Command, ctx: CommandContext): void {
  program
    .command('list')
    .description('list domains')
    .option('--all', 'list inactive & active domains')
    .option('--inactive', 'list inactive domains')
    .option('--name', 'list domain names only')
    .option('--uuid', "list uuid's only")
    .action(async (opts: ListOpts) => {
      const active = opts.inactive !== true || opts.all === true;
      const inactive = opts.all === true || opts.inactive === true;
      const { domains } = await withContext('Failed to list domains', async () =>
        (await ctx.connect()).call('domain.list', { active, inactive }),
      );
      if (opts.name === true || opts.uuid === true) {
        const lines = domains.map((d) =>
          opts.name === true && opts.uuid === true
            ? `${d.uuid} ${d.name}`
            : opts.name === true
              ? d.name
              : d.uuid,
        );
        ctx.out(lines.map((l) => `${l}\n`).join('') + '\n');
        return;
      }
      const rows = domains.map((d) => [d.id === null ? '-' : String(d.id), d.name, d.state]);
      ctx.out(formatTable(['Id', 'Name', 'State'], rows));
    });

  domainCommand(program, 'dominfo', 'domain information').action(
    async (pos: string | undefined, opts: { domain?: string }) => {
      const domain = domainArg(pos, opts);
      const info = await withContext(`Failed to get information of domain '${domain}'`, async () =>
        (await ctx.connect()).call('domain.info', { domain }),
      );
      const pairs: [string, string][] = [
        ['Id', info.id === null ? '-' : String(info.id)],
        ['Name', info.name],
        ['UUID', info.uuid],
        ['OS Type', info.osType],
        ['State', info.state],
        ['CPU(s)', String(info.vcpus)],
      ];
      if (info.cpuTimeNs > 0) pairs.push(['CPU time', `${(info.cpuTimeNs / 1e9).toFixed(1)}s`]);
      pairs.push(
        ['Max memory', `${info.maxMemoryKiB} KiB`],
        ['Used memory', `${info.memoryKiB} KiB`],
        ['Persistent', info.persistent ? 'yes' : 'no'],
        ['Autostart', info.autostart ? 'enable' : 'disable'],
        ['Managed save', 'no'],
        ['Security model', 'none'],
        ['Security DOI', '0'],
      );
      ctx.out(formatKeyValues(pairs));
    },
  );

  domainCommand(program, 'domstate', 'domain state')
    .option('--reason', 'also print reason for the state')
    .action(async (pos: string | undefined, opts: { domain?: string; reason?: boolean }) => {
      const domain = domainArg(pos, opts);
      const info = await withContext(`Failed to get state of domain '${domain}'`, async () =>
        (await ctx.connect()).call('domain.info', { domain }),
      );
      ctx.out(opts.reason === true ? `${info.state} (${info.reason})\n\n` : `${info.state}\n\n`);
    });

  domainCommand(program, 'dumpxml', 'domain information in XML')
    .option('--inactive', 'show inactive defined XML')
    .action(async (pos: string | undefined, opts: { domain?: string; inactive?: boolean }) => {
      const domain = domainArg(pos, opts);
      const { xml } = await withContext(`Failed to get XML of domain '${domain}'`, async () =>
        (await ctx.connect()).call('domain.getXml', { domain, inactive: opts.inactive === true }),
      );
      ctx.out(xml.endsWith('\n') ? `${xml}\n` : `${xml}\n\n`);
    });
}
