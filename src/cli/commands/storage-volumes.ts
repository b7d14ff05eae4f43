/**
 * vol-create-as, vol-list, vol-info, vol-path, vol-key, vol-delete, vol-dumpxml, with virsh's
 * output layouts. A volume is named in a pool (`VOL --pool POOL`) or by its key or path alone.
 * @module
 */
import { Option, type Command } from 'commander';
import { FerryError } from '../../common/errors.js';
import { formatCapacity, parseSize } from '../../common/size.js';
import type { Volume } from '../../rpc/schema/storage.js';
import type { CommandContext } from '../context.js';
import { CommandError } from '../errors.js';
import { formatKeyValues, formatTable } from '../format/table.js';
import { poolArg, poolCommand, withStorageContext } from './storage-common.js';

type VolOpts = { pool?: string; vol?: string };

/** A command on one volume: `VOL` or `--vol VOL`, with an optional `--pool`. */
function volCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('[vol]', 'vol name, key or path')
    .addOption(new Option('--vol <vol>', 'vol name, key or path'))
    .addOption(new Option('--pool <pool>', 'pool name or uuid'));
}

function volArg(
  command: string,
  pos: string | undefined,
  opts: VolOpts,
): { vol: string; pool?: string } {
  const vol = opts.vol ?? pos;
  if (vol === undefined || vol === '')
    throw new Error(`command '${command}' requires <vol> option`);
  return opts.pool === undefined ? { vol } : { vol, pool: opts.pool };
}

function imageFormat(text: string | undefined, option: string): 'raw' | 'qcow2' | undefined {
  if (text === undefined || text === 'raw' || text === 'qcow2') return text;
  throw new FerryError(
    'INVALID_ARG',
    `invalid argument: ${option} '${text}' is not supported; Ferry makes raw and qcow2 volumes`,
  );
}

/** The capacity argument, with virsh's "Malformed size" lines when it is not one. */
function capacityArg(text: string): number {
  try {
    return parseSize(text);
  } catch (err) {
    if (err instanceof FerryError) throw new CommandError(err.message, err.cause);
    throw err;
  }
}

export function registerVolumes(program: Command, ctx: CommandContext): void {
  program
    .command('vol-create-as')
    .description('create a volume from a set of args')
    .argument('[pool]', 'pool name')
    .argument('[name]', 'name of the volume')
    .argument('[capacity]', 'size of the vol, as scaled integer (default bytes)')
    .addOption(new Option('--pool <pool>', 'pool name'))
    .addOption(new Option('--name <name>', 'name of the volume'))
    .addOption(new Option('--capacity <size>', 'size of the vol'))
    .option('--format <format>', 'file format type raw, qcow2')
    .option('--backing-vol <vol>', 'the backing volume if taking a snapshot')
    .option('--backing-vol-format <format>', 'format of backing volume if taking a snapshot')
    .action(
      async (
        posPool: string | undefined,
        posName: string | undefined,
        posCapacity: string | undefined,
        o: {
          pool?: string;
          name?: string;
          capacity?: string;
          format?: string;
          backingVol?: string;
          backingVolFormat?: string;
        },
      ) => {
        const pool = poolArg('vol-create-as', posPool, o);
        const name = o.name ?? posName;
        const capacityText = o.capacity ?? posCapacity;
        if (name === undefined) throw new Error("command 'vol-create-as' requires <name> option");
        if (capacityText === undefined)
          throw new Error("command 'vol-create-as' requires <capacity> option");
        const capacity = capacityArg(capacityText);
        const format = imageFormat(o.format, '--format');
        const backingFormat = imageFormat(o.backingVolFormat, '--backing-vol-format');
        const res = await withStorageContext(`Failed to create vol ${name}`, async () =>
          (await ctx.connect()).call('vol.create', {
            pool,
            name,
            capacity,
            ...(format === undefined ? {} : { format }),
            ...(o.backingVol === undefined ? {} : { backingVol: o.backingVol }),
            ...(backingFormat === undefined ? {} : { backingFormat }),
          }),
        );
        for (const w of res.warnings) ctx.err(`warning: ${w}\n`);
        ctx.out(`Vol ${res.name} created\n\n`);
      },
    );

  poolCommand(program, 'vol-list', 'list vols')
    .option('--details', 'display extended details for volumes')
    .action(async (pos: string | undefined, opts: { pool?: string; details?: boolean }) => {
      const pool = poolArg('vol-list', pos, opts);
      const { volumes } = await withStorageContext('Failed to list volumes', async () =>
        (await ctx.connect()).call('vol.list', { pool }),
      );
      ctx.out(formatVolumeList(volumes, opts.details === true));
    });

  volCommand(program, 'vol-info', 'storage vol information').action(
    async (pos: string | undefined, opts: VolOpts) => {
      const ref = volArg('vol-info', pos, opts);
      const vol = await withStorageContext('Failed to get volume information', async () =>
        (await ctx.connect()).call('vol.info', ref),
      );
      ctx.out(formatKeyValues(volumeInfoPairs(vol)));
    },
  );

  for (const [name, description, field] of [
    ['vol-path', 'returns the volume path for a given volume name or key', 'path'],
    ['vol-key', 'returns the volume key for a given volume name or path', 'key'],
  ] as const) {
    volCommand(program, name, description).action(
      async (pos: string | undefined, opts: VolOpts) => {
        const ref = volArg(name, pos, opts);
        const vol = await withStorageContext(`Failed to get volume ${field}`, async () =>
          (await ctx.connect()).call('vol.info', ref),
        );
        ctx.out(`${vol[field]}\n\n`);
      },
    );
  }

  volCommand(program, 'vol-delete', 'delete a vol').action(
    async (pos: string | undefined, opts: VolOpts) => {
      const ref = volArg('vol-delete', pos, opts);
      await withStorageContext(`Failed to delete vol ${ref.vol}`, async () =>
        (await ctx.connect()).call('vol.delete', ref),
      );
      ctx.out(`Vol ${ref.vol} deleted\n\n`);
    },
  );

  volCommand(program, 'vol-dumpxml', 'vol information in XML').action(
    async (pos: string | undefined, opts: VolOpts) => {
      const ref = volArg('vol-dumpxml', pos, opts);
      const { xml } = await withStorageContext('Failed to get volume XML', async () =>
        (await ctx.connect()).call('vol.getXml', ref),
      );
      ctx.out(`${xml}\n`);
    },
  );
}

/** vol-info's lines. */
export function volumeInfoPairs(vol: Volume): [string, string][] {
  return [
    ['Name', vol.name],
    ['Type', vol.type],
    ['Capacity', formatCapacity(vol.capacity)],
    ['Allocation', formatCapacity(vol.allocation)],
  ];
}

/** vol-list's table, and with `details` its extended columns. */
export function formatVolumeList(volumes: readonly Volume[], details: boolean): string {
  if (!details)
    return formatTable(
      ['Name', 'Path'],
      volumes.map((v) => [v.name, v.path]),
    );
  return formatTable(
    ['Name', 'Path', 'Type', 'Capacity', 'Allocation'],
    volumes.map((v) => [
      v.name,
      v.path,
      v.type,
      formatCapacity(v.capacity),
      formatCapacity(v.allocation),
    ]),
  );
}
