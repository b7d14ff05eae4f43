/**
 * The preflight report's verdicts: overall, the first failure (what a refused migration
 * says), and the warnings a migration passes on. The CLI prints the report
 * (src/cli/format/preflight-report.ts).
 * @module
 */
import type { PreflightCheck, PreflightReport } from '../rpc/schema/preflight.js';

/** fail when any check failed, warn when any warned, else pass (skips do not count). */
export function overallVerdict(checks: readonly PreflightCheck[]): PreflightReport['verdict'] {
  if (checks.some((c) => c.verdict === 'fail')) return 'fail';
  if (checks.some((c) => c.verdict === 'warn')) return 'warn';
  return 'pass';
}

/** "CHECK: reason" of the first failing check, or undefined when none failed. */
export function firstFailure(checks: readonly PreflightCheck[]): string | undefined {
  const failed = checks.find((c) => c.verdict === 'fail');
  return failed === undefined ? undefined : `${failed.check}: ${failed.reason}`;
}

/** The warnings a migration passes on to the user (`warning: CHECK: reason`). */
export function warningsOf(checks: readonly PreflightCheck[]): string[] {
  return checks.filter((c) => c.verdict === 'warn').map((c) => `${c.check}: ${c.reason}`);
}
