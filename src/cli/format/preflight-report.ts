/**
 * `ferry migrate --dry-run`'s output: a line per check, columns aligned, then the verdict.
 * @module
 */
import type { PreflightReport, PreflightVerdict } from '../../rpc/schema/preflight.js';

const VERDICTS: readonly PreflightVerdict[] = ['pass', 'warn', 'fail', 'skip'];
const VERDICT_WIDTH = Math.max(...VERDICTS.map((v) => v.length));

/**
 * The report as `ferry migrate --dry-run` prints it:
 *
 *   Preflight of 'vm1' to qemu+tcp://h2/system
 *     pass  state       running, live migration
 *     skip  cpu         CPU check not built yet
 *   …
 *   Verdict: pass (0.4 s)
 */
export function formatReport(report: PreflightReport): string {
  const width = Math.max(...report.checks.map((c) => c.check.length));
  const lines = [`Preflight of '${report.domain}' to ${report.destUri}`];
  for (const c of report.checks)
    lines.push(`  ${c.verdict.padEnd(VERDICT_WIDTH)}  ${c.check.padEnd(width)}  ${c.reason}`);
  const failures = report.checks.filter((c) => c.verdict === 'fail').length;
  const warnings = report.checks.filter((c) => c.verdict === 'warn').length;
  const counts = [
    failures > 0 ? `${failures} failed` : '',
    warnings > 0 ? `${warnings} warned` : '',
  ].filter((s) => s !== '');
  lines.push(
    `Verdict: ${report.verdict}${counts.length > 0 ? ` (${counts.join(', ')})` : ''} in ${(report.elapsedMs / 1000).toFixed(1)} s`,
  );
  return `${lines.join('\n')}\n`;
}
