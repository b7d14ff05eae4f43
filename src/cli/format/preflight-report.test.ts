import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PreflightReport } from '../../rpc/schema/preflight.js';
import { formatReport } from './preflight-report.js';

const REPORT: PreflightReport = {
  domain: 'vm1',
  destUri: 'qemu+tcp://h2/system',
  verdict: 'fail',
  elapsedMs: 412,
  checks: [
    { check: 'state', verdict: 'pass', reason: 'running, live migration' },
    { check: 'cpu', verdict: 'skip', reason: 'CPU check not built yet' },
    { check: 'numa', verdict: 'warn', reason: 'topologies differ' },
    { check: 'dirty-rate', verdict: 'fail', reason: 'x' },
  ],
};

test('formatReport() aligns a line per check and ends with the verdict', () => {
  assert.equal(
    formatReport(REPORT),
    [
      "Preflight of 'vm1' to qemu+tcp://h2/system",
      '  pass  state       running, live migration',
      '  skip  cpu         CPU check not built yet',
      '  warn  numa        topologies differ',
      '  fail  dirty-rate  x',
      'Verdict: fail (1 failed, 1 warned) in 0.4 s',
      '',
    ].join('\n'),
  );
});

test('the report survives JSON and the schema', () => {
  assert.deepEqual(PreflightReport.parse(JSON.parse(JSON.stringify(REPORT))), REPORT);
});
