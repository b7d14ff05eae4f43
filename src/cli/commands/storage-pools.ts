/**
 * pool-define-as, pool-create-as, pool-build, pool-start, pool-destroy, pool-undefine,
 * pool-list, pool-info, pool-refresh, pool-dumpxml, pool-autostart, and Ferry's pool-export /
 * pool-unexport, with virsh's output layouts.
 * @module
 */
import type { Command } from 'commander';
import { formatCapacity } from '../../common/size.js';
import type { PoolSummary } from '../../rpc/schema/storage.js';
import type { CommandContext } from '../context.js';
import { CommandError } from '../errors.js';
import { formatKeyValues, formatTable } from '../format/table.js';
import { poolArg, poolCommand, withStorageContext } from './storage-common.js';

interface DefineOpts {
  name?: string;
  type?: string;
  sourceHost?: string;
  sourcePath?: string;
  sourceDev?: string;
  sourceName?: string;
  sourceFormat?: string;
  target?: string;
  build?: boolean;
}

const DEFINE_ARGS = ['source-host', 'source-path', 'source-dev', 'source-name', 'target'] as const;

/** virsh takes '-' for an argument left out. */
function given(value: string | undefined): string | undefined {
  return value === undefined || value === '-' || value === '' ? undefined : value;
}

/** The definition pool-define-as / pool-create-as describe, options winning over positionals. */
function defineParams(command: string, positional: (string | undefined)[], o: DefineOpts) {
  const [name, type, host, path, dev, sourceName, target] = positional;
  const params = {
    name: given(o.name ?? name),
    type: given(o.type ?? type),
    sourceHost: given(o.sourceHost ?? host),
    sourcePath: given(o.sourcePath ?? path),
    sourceDev: given(o.sourceDev ?? dev),
    sourceName: given(o.sourceName ?? sourceName),
    sourceFormat: given(o.sourceFormat),
    target: given(o.target ?? target),
  };
  const missing = (['name', 'type'] as const)
    .filter((k) => params[k] === undefined)
    .map((k) => `command '${command}' requires <${k}> option`);
  const [first, second] = missing;
  if (first !== undefined)
    throw new CommandError(first, second === undefined ? undefined : new Error(second));
  const defined = Object.entries(params).filter(([, v]) => v !== undefined);
  return Object.fromEntries(defined) as { name: string; type: string } & Record<string, string>;
}

function defineCommand(program: Command, name: string, description: string): Command {
  let cmd = program
    .command(name)
    .description(description)
    .argument('[name]', 'name of the pool')
    .argument('[type]', 'type of the pool: dir, nbd (Ferry), netfs (over NFS, no mount)');
  for (const a of DEFINE_ARGS) cmd = cmd.argument(`[${a}]`, a.replace('-', ' '));
  return cmd
    .option('--name <name>', 'name of the pool')
    .option('--type <type>', 'type of the pool')
    .option('--source-host <host>', 'source host (nbd: HOST[:PORT], port 10809 by default)')
    .option('--source-path <path>', 'source path (netfs: the exported directory)')
    .option('--source-dev <dev>', 'source device')
    .option('--source-name <name>', 'source name')
    .option('--source-format <format>', 'source format (netfs: auto, nfs)')
    .option('--target <dir>', 'target directory (dir, netfs)');
}

function printWarnings(ctx: CommandContext, warnings: readonly string[]): void {
  for (const w of warnings) ctx.err(`warning: ${w}\n`);
}

const size = (n: number | null): string => (n === null ? '-' : formatCapacity(n));

export function registerPools(program: Command, ctx: CommandContext): void {
  defineCommand(program, 'pool-define-as', 'define a pool from a set of args').action(
    async (...args: unknown[]) => {
      const opts = args[7] as DefineOpts;
      const p = defineParams('pool-define-as', args.slice(0, 7) as (string | undefined)[], opts);
      const res = await withStorageContext(`Failed to define pool ${p.name}`, async () =>
        (await ctx.connect()).call('pool.define', p),
      );
      printWarnings(ctx, res.warnings);
      ctx.out(`Pool ${res.name} defined\n\n`);
    },
  );

  defineCommand(program, 'pool-create-as', 'create a pool from a set of args')
    .option('--build', 'build the pool before starting it')
    .action(async (...args: unknown[]) => {
      const opts = args[7] as DefineOpts;
      const p = defineParams('pool-create-as', args.slice(0, 7) as (string | undefined)[], opts);
      const res = await withStorageContext(`Failed to create pool ${p.name}`, async () =>
        (await ctx.connect()).call('pool.create', { ...p, build: opts.build === true }),
      );
      printWarnings(ctx, res.warnings);
      ctx.out(`Pool ${res.name} created\n\n`);
    });

  const simple = [
    ['pool-build', 'build a pool', 'pool.build', 'build', 'built'],
    ['pool-destroy', 'destroy (stop) a pool', 'pool.destroy', 'destroy', 'destroyed'],
    [
      'pool-undefine',
      'undefine an inactive pool',
      'pool.undefine',
      'undefine',
      'has been undefined',
    ],
    ['pool-unexport', 'stop serving a pool over NBD', 'pool.unexport', 'unexport', 'unexported'],
  ] as const;
  for (const [name, description, method, verb, done] of simple) {
    poolCommand(program, name, description).action(
      async (pos: string | undefined, opts: { pool?: string }) => {
        const pool = poolArg(name, pos, opts);
        const res = await withStorageContext(`Failed to ${verb} pool ${pool}`, async () =>
          (await ctx.connect()).call(method, { pool }),
        );
        ctx.out(`Pool ${res.name} ${done}\n\n`);
      },
    );
  }

  poolCommand(program, 'pool-start', 'start a (previously defined) inactive pool')
    .option('--build', 'build the pool before starting it')
    .action(async (pos: string | undefined, opts: { pool?: string; build?: boolean }) => {
      const pool = poolArg('pool-start', pos, opts);
      const res = await withStorageContext(`Failed to start pool ${pool}`, async () =>
        (await ctx.connect()).call('pool.start', { pool, build: opts.build === true }),
      );
      ctx.out(`Pool ${res.name} started\n\n`);
    });

  poolCommand(program, 'pool-refresh', 'refresh a pool').action(
    async (pos: string | undefined, opts: { pool?: string }) => {
      const pool = poolArg('pool-refresh', pos, opts);
      const res = await withStorageContext(`Failed to refresh pool ${pool}`, async () =>
        (await ctx.connect()).call('pool.refresh', { pool }),
      );
      printWarnings(ctx, res.warnings);
      ctx.out(`Pool ${res.name} refreshed\n\n`);
    },
  );

  poolCommand(program, 'pool-autostart', 'autostart a pool')
    .option('--disable', 'disable autostarting')
    .action(async (pos: string | undefined, opts: { pool?: string; disable?: boolean }) => {
      const pool = poolArg('pool-autostart', pos, opts);
      const on = opts.disable !== true;
      const verb = on ? 'mark' : 'unmark';
      await withStorageContext(`failed to ${verb} pool ${pool} as autostarted`, async () =>
        (await ctx.connect()).call('pool.setAutostart', { pool, autostart: on }),
      );
      ctx.out(`Pool ${pool} ${verb}ed as autostarted\n\n`);
    });

  poolCommand(program, 'pool-dumpxml', 'pool information in XML')
    .option('--inactive', 'show inactive defined XML')
    .action(async (pos: string | undefined, opts: { pool?: string; inactive?: boolean }) => {
      const pool = poolArg('pool-dumpxml', pos, opts);
      const { xml } = await withStorageContext(`Failed to get XML of pool ${pool}`, async () =>
        (await ctx.connect()).call('pool.getXml', { pool, inactive: opts.inactive === true }),
      );
      ctx.out(`${xml}\n`);
    });

  poolCommand(program, 'pool-info', 'storage pool information').action(
    async (pos: string | undefined, opts: { pool?: string }) => {
      const pool = poolArg('pool-info', pos, opts);
      const info = await withStorageContext(`Failed to get info of pool ${pool}`, async () =>
        (await ctx.connect()).call('pool.info', { pool }),
      );
      ctx.out(formatKeyValues(poolInfoPairs(info)));
    },
  );

  program
    .command('pool-list')
    .description('list pools')
    .option('--all', 'list inactive & active pools')
    .option('--inactive', 'list inactive pools')
    .option('--details', 'display extended details for pools')
    .action(async (opts: { all?: boolean; inactive?: boolean; details?: boolean }) => {
      const active = opts.inactive !== true || opts.all === true;
      const inactive = opts.all === true || opts.inactive === true;
      const { pools } = await withStorageContext('Failed to list pools', async () =>
        (await ctx.connect()).call('pool.list', { active, inactive }),
      );
      ctx.out(formatPoolList(pools, opts.details === true));
    });

  poolCommand(program, 'pool-export', "serve a dir pool's volumes over NBD (Ferry)")
    .option('--listen <addr>', 'address the NBD server listens on', '0.0.0.0')
    .option('--port <port>', 'TCP port of the NBD server', '10809')
    .action(
      async (pos: string | undefined, opts: { pool?: string; listen: string; port: string }) => {
        const pool = poolArg('pool-export', pos, opts);
        const port = Number(opts.port);
        if (!/^\d+$/.test(opts.port) || port < 1 || port > 65535)
          throw new Error(
            `Numeric value '${opts.port}' for <port> option is malformed or out of range`,
          );
        const res = await withStorageContext(`Failed to export pool ${pool}`, async () =>
          (await ctx.connect()).call('pool.export', { pool, listen: opts.listen, port }),
        );
        printWarnings(ctx, res.warnings);
        ctx.out(`Pool ${res.name} exported on ${res.uri}\n\n`);
      },
    );
}

/** pool-info's lines: sizes only while active, and where the pool is exported (Ferry). */
export function poolInfoPairs(info: PoolSummary): [string, string][] {
  const pairs: [string, string][] = [
    ['Name', info.name],
    ['UUID', info.uuid],
    ['State', info.active ? 'running' : 'inactive'],
    ['Persistent', info.persistent ? 'yes' : 'no'],
    ['Autostart', info.autostart ? 'yes' : 'no'],
  ];
  if (info.active)
    pairs.push(
      ['Capacity', size(info.capacity)],
      ['Allocation', size(info.allocation)],
      ['Available', size(info.available)],
    );
  if (info.exported !== null) pairs.push(['Exported', info.exported]);
  if (info.netfs !== undefined)
    pairs.push(
      ['Source', info.netfs.source],
      ['Target', `${info.netfs.target} (recorded only, not mounted: volumes are opened over NFS)`],
    );
  return pairs;
}

/** pool-list's table, and with `details` its extended columns. */
export function formatPoolList(pools: readonly PoolSummary[], details: boolean): string {
  const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
  if (!details)
    return formatTable(
      ['Name', 'State', 'Autostart'],
      pools.map((p) => [p.name, p.active ? 'active' : 'inactive', yesNo(p.autostart)]),
    );
  return formatTable(
    ['Name', 'State', 'Autostart', 'Persistent', 'Capacity', 'Allocation', 'Available'],
    pools.map((p) => [
      p.name,
      p.active ? 'running' : 'inactive',
      yesNo(p.autostart),
      yesNo(p.persistent),
      p.active ? size(p.capacity) : '-',
      p.active ? size(p.allocation) : '-',
      p.active ? size(p.available) : '-',
    ]),
  );
}
