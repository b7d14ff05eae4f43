import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PreflightCheck } from '../rpc/schema/preflight.js';
import { firstFailure, overallVerdict, warningsOf } from './report.js';

const CHECKS: PreflightCheck[] = [
  { check: 'state', verdict: 'pass', reason: 'running, live migration' },
  { check: 'cpu', verdict: 'skip', reason: 'CPU check not built yet' },
  { check: 'numa', verdict: 'warn', reason: 'topologies differ' },
  { check: 'memory', verdict: 'fail', reason: 'not enough memory' },
  { check: 'prediction', verdict: 'fail', reason: 'later' },
];

test('overallVerdict(): any fail, else any warn, else pass; skips do not count', () => {
  assert.equal(overallVerdict(CHECKS), 'fail');
  assert.equal(overallVerdict(CHECKS.slice(0, 3)), 'warn');
  assert.equal(overallVerdict(CHECKS.slice(0, 2)), 'pass');
});

test('firstFailure() and warningsOf() name the check', () => {
  assert.equal(firstFailure(CHECKS), 'memory: not enough memory');
  assert.equal(firstFailure(CHECKS.slice(0, 3)), undefined);
  assert.deepEqual(warningsOf(CHECKS), ['numa: topologies differ']);
});
