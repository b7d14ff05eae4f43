/**
 * What every command gets: a lazily opened connection and the output streams.
 * @module
 */
import { Option, type Command } from 'commander';
import type { Connection } from './connection.js';

export interface CommandContext {
  /** Opens (once) the connection named by -c or the default URI. */
  connect(): Promise<Connection>;
  /** The URI the commands talk to. */
  readonly uri: string;
  out(text: string): void;
  err(text: string): void;
}

/** The domain a command names: `--domain X` or the first positional argument, as virsh allows. */
export function domainArg(
  positional: string | undefined,
  opts: { domain?: string | undefined },
): string {
  const name = opts.domain ?? positional;
  if (name === undefined || name === '')
    throw new Error("command requires the option '--domain <string>'");
  return name;
}

/**
 * A command on one domain: the domain as first positional argument or as `--domain`, virsh's
 * two spellings. Further arguments may follow.
 */
export function domainCommand(
  program: Command,
  name: string,
  description: string,
  argDescription = 'domain name, id or uuid',
): Command {
  return program
    .command(name)
    .description(description)
    .argument('[domain]', argDescription)
    .addOption(new Option('--domain <domain>', argDescription));
}

/** A whole number in `min`…`max` given to option `<name>`, with virsh's complaint when it is not one. */
export function parseWholeNumber(
  text: string,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(
      `Numeric value '${text}' for <${name.replace(/^--/, '')}> option is malformed or out of range`,
    );
  }
  return n;
}
