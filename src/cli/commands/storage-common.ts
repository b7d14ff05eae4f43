/**
 * What the pool and volume commands share: the pool argument in virsh's two spellings, and
 * virsh's error lines for a pool or volume that is not there.
 * @module
 */
import { Option, type Command } from 'commander';
import { FerryError } from '../../common/errors.js';
import { CommandError } from '../errors.js';

/** A command on one pool: the pool as first positional argument or as `--pool`. */
export function poolCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('[pool]', 'pool name or uuid')
    .addOption(new Option('--pool <pool>', 'pool name or uuid'));
}

/** The pool a command names, or virsh's complaint. */
export function poolArg(
  command: string,
  positional: string | undefined,
  opts: { pool?: string | undefined },
): string {
  const name = opts.pool ?? positional;
  if (name === undefined || name === '')
    throw new Error(`command '${command}' requires <pool> option`);
  return name;
}

/**
 * The lines virsh prints when a lookup failed: "failed to get pool 'x'" (or vol) above the
 * reason; anything else under `context`.
 */
function shown(context: string, err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  if (err instanceof FerryError) {
    const pool = err.data?.['pool'];
    const vol = err.data?.['vol'];
    if (err.code === 'NO_STORAGE_POOL' && typeof pool === 'string')
      return new CommandError(`failed to get pool '${pool}'`, err);
    if (err.code === 'NO_STORAGE_VOL' && typeof vol === 'string')
      return new CommandError(
        pool === undefined
          ? `failed to get vol '${vol}', specifying --pool might help`
          : `failed to get vol '${vol}'`,
        err,
      );
  }
  return new CommandError(context, err);
}

/** Runs a storage step; failures become virsh's two lines. */
export async function withStorageContext<T>(context: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw shown(context, err);
  }
}
