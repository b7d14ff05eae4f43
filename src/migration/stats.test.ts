import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobStatsFrom } from './stats.js';

// A query-migrate reply recorded from QEMU 7.2 during a completed migration.
const COMPLETED = {
  status: 'completed',
  'setup-time': 1,
  downtime: 147,
  'total-time': 312,
  ram: {
    'multifd-bytes': 0,
    'pages-per-second': 21474,
    'downtime-bytes': 2469888,
    'page-size': 4096,
    remaining: 0,
    'postcopy-bytes': 0,
    mbps: 2356.1058,
    transferred: 91479949,
    'dirty-sync-missed-zero-copy': 0,
    'precopy-bytes': 89010061,
    duplicate: 18882,
    'dirty-pages-rate': 12,
    skipped: 0,
    'normal-bytes': 91131904,
    total: 168304640,
    'dirty-sync-count': 3,
    'postcopy-requests': 0,
    normal: 22249,
  },
};

test('jobStatsFrom() maps a completed query-migrate reply to domjobinfo fields', () => {
  const s = jobStatsFrom(COMPLETED, 'Outgoing migration');
  assert.equal(s.type, 'Completed');
  assert.equal(s.timeElapsedMs, 312);
  assert.equal(s.totalDowntimeMs, 147);
  assert.equal(s.dataProcessed, 91479949);
  assert.equal(s.dataTotal, 168304640);
  assert.equal(s.memoryBandwidth, Math.round((2356.1058 * 1e6) / 8));
  assert.equal(s.dirtyRate, 12 * 4096);
  assert.equal(s.iteration, 3);
  assert.equal(s.constantPages, 18882);
  assert.equal(s.normalPages, 22249);
});

test('jobStatsFrom() reports running, failed and absent jobs', () => {
  assert.equal(jobStatsFrom({ status: 'active' }, 'Outgoing migration').type, 'Unbounded');
  assert.equal(jobStatsFrom({ status: 'postcopy-active' }, 'Outgoing migration').postcopy, true);
  const failed = jobStatsFrom(
    { status: 'failed', 'error-desc': 'Unable to write' },
    'Outgoing migration',
  );
  assert.deepEqual([failed.type, failed.error], ['Failed', 'Unable to write']);
  assert.equal(jobStatsFrom({}, 'Incoming migration').type, 'None');
});
