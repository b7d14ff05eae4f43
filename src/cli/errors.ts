/**
 * Turns any failure into virsh's one or two `error: …` lines on stderr.
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';

/** A failure with virsh's leading context line ("Failed to start domain 'x'") above its cause. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly context: string,
    override readonly cause: unknown,
  ) {
    super(context);
  }
}

/**
 * The error to show for `err`: when the domain lookup itself failed, virsh says only
 * "failed to get domain 'x'"; anything else is shown as it is.
 */
export function domainLookupError(err: unknown): unknown {
  if (
    err instanceof FerryError &&
    err.code === 'NO_DOMAIN' &&
    typeof err.data?.['domain'] === 'string'
  ) {
    return new CommandError(`failed to get domain '${err.data['domain']}'`, undefined);
  }
  return err;
}

/** Runs one step, failing with the daemon's message alone (virsh's form for job commands). */
export async function withDomainLookup<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw domainLookupError(err);
  }
}

/** Wraps a failing step so the user sees what was being done, then why it failed. */
export async function withContext<T>(context: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    // Already explained (e.g. the connection failed): keep that explanation.
    if (err instanceof CommandError) throw err;
    const shown = domainLookupError(err);
    throw shown === err ? new CommandError(context, err) : shown;
  }
}

/** The lines to print for an error, each starting with `error: `. */
export function renderError(err: unknown): string {
  if (err instanceof CommandError) {
    const lines = [`error: ${err.context}`];
    if (err.cause !== undefined) lines.push(`error: ${messageOf(err.cause)}`);
    return lines.join('\n') + '\n';
  }
  return `error: ${messageOf(err)}\n`;
}
