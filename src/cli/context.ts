/**
 * What every command gets: a lazily opened connection and the output streams.
 * @module
 */
import { Option } from 'commander';
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

/** virsh's `--domain` option, the named twin of every command's positional domain. */
export function domainOption(description = 'domain name, id or uuid'): Option {
  return new Option('--domain <domain>', description);
}
