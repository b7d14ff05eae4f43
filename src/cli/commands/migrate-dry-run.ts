/**
 * `ferry migrate --dry-run`: the preflight of the migration the same flags would start,
 * printed as a report (or as JSON with --json); changes nothing. Exit 1 when a check fails.
 * @module
 */
import type { CommandContext } from '../context.js';
import { domainLookupError } from '../errors.js';
import { formatReport } from '../format/preflight-report.js';
import type { MigrateRequest } from './migrate.js';

export interface DryRunOptions {
  /** Measure the link and the guest's dirty rate (default; --no-measure skips them). */
  measure: boolean;
  json: boolean;
}

export async function runDryRun(
  ctx: CommandContext,
  req: MigrateRequest,
  opts: DryRunOptions,
): Promise<void> {
  if (req.flags.postcopyResume)
    throw new Error(
      'Option --dry-run cannot be used with --postcopy-resume: a paused migration has nothing left to check',
    );
  const conn = await ctx.connect();
  let report;
  try {
    report = await conn.call('migration.preflight', {
      domain: req.domain,
      destUri: req.destUri,
      flags: req.flags,
      measure: { bandwidth: opts.measure, dirtyRate: opts.measure },
    });
  } catch (err) {
    throw domainLookupError(err);
  }
  ctx.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  const failed = report.checks.find((c) => c.verdict === 'fail');
  if (failed !== undefined) throw new Error(`preflight failed: ${failed.check}: ${failed.reason}`);
}
