import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCapacity, formatJobInfo, type JobInfo } from './jobinfo.js';

// Expected strings are virsh 9.0's output captured in /work/shared/peers/libvirt/outputs.md
// (two libvirtd hosts, TCG guests). The byte figures are the ones libvirt reported for the
// same job (its job-completed event), or the nearest whole bytes to the printed MiB/GiB.
const MiB = 1024 * 1024;
const PAGE = 4096;

test('formatJobInfo() prints only the type when there is no job ("domjobinfo with no job")', () => {
  assert.equal(
    formatJobInfo({ type: 'None', status: 'none' }),
    'Job type:         None        \n\n',
  );
  assert.equal(
    formatJobInfo({ type: 'None', status: 'none' }, { completed: true }),
    'Job type:         None        \n\n',
  );
});

test('formatJobInfo() matches "domjobinfo DURING a non-converging migration"', () => {
  const running: JobInfo = {
    type: 'Unbounded',
    operation: 'Outgoing migration',
    status: 'active',
    timeElapsedMs: 6003,
    dataProcessed: 597902230,
    dataRemaining: 75063362,
    dataTotal: 537264128,
    memoryBandwidth: 104898494,
    dirtyRate: 24780 * PAGE,
    pageSize: PAGE,
    iteration: 3,
    postcopyRequests: 0,
    constantPages: 63189,
    normalPages: 145549,
    normalData: 145549 * PAGE,
    expectedDowntimeMs: 2013,
    setupTimeMs: 8,
  };
  assert.equal(
    formatJobInfo(running),
    [
      'Job type:         Unbounded   ',
      'Operation:        Outgoing migration',
      'Time elapsed:     6003         ms',
      'Data processed:   570.204 MiB',
      'Data remaining:   71.586 MiB',
      'Data total:       512.375 MiB',
      'Memory processed: 570.204 MiB',
      'Memory remaining: 71.586 MiB',
      'Memory total:     512.375 MiB',
      'Memory bandwidth: 100.039 MiB/s',
      'Dirty rate:       24780        pages/s',
      'Page size:        4096         bytes',
      'Iteration:        3           ',
      'Postcopy requests: 0           ',
      'Constant pages:   63189       ',
      'Normal pages:     145549      ',
      'Normal data:      568.551 MiB',
      'Expected downtime: 2013         ms',
      'Setup time:       8            ms',
      '',
      '',
    ].join('\n'),
  );
});

test('formatJobInfo() matches "domjobinfo DURING --auto-converge migration" (GiB, throttle)', () => {
  const running: JobInfo = {
    type: 'Unbounded',
    operation: 'Outgoing migration',
    status: 'active',
    timeElapsedMs: 20004,
    dataProcessed: 2056215593,
    dataRemaining: 127418761,
    dataTotal: 537264128,
    memoryBandwidth: 104898494,
    dirtyRate: 25480 * PAGE,
    pageSize: PAGE,
    iteration: 11,
    postcopyRequests: 0,
    constantPages: 63256,
    normalPages: 500826,
    normalData: 500826 * PAGE,
    expectedDowntimeMs: 2013,
    setupTimeMs: 2,
    autoConvergeThrottle: 60,
  };
  const out = formatJobInfo(running);
  assert.ok(out.includes('\nData processed:   1.915 GiB\nData remaining:   121.516 MiB\n'));
  assert.ok(out.includes('\nNormal data:      1.910 GiB\n'));
  assert.ok(
    out.endsWith('\nSetup time:       2            ms\nAuto converge throttle: 60           \n\n'),
  );
});

const completedSource: JobInfo = {
  type: 'Completed',
  operation: 'Outgoing migration',
  status: 'completed',
  timeElapsedMs: 797,
  timeElapsedNetMs: 794,
  dataProcessed: 86667858,
  dataRemaining: 0,
  dataTotal: 537264128,
  memoryBandwidth: 250600638,
  dirtyRate: 0,
  pageSize: PAGE,
  iteration: 3,
  postcopyRequests: 0,
  constantPages: 110301,
  normalPages: 20876,
  normalData: 85508096,
  totalDowntimeMs: 237,
  downtimeNetMs: 234,
  setupTimeMs: 1,
};

const completedSourceText = [
  'Job type:         Completed   ',
  'Operation:        Outgoing migration',
  'Time elapsed:     797          ms',
  'Time elapsed w/o network: 794          ms',
  'Data processed:   82.653 MiB',
  'Data remaining:   0.000 B',
  'Data total:       512.375 MiB',
  'Memory processed: 82.653 MiB',
  'Memory remaining: 0.000 B',
  'Memory total:     512.375 MiB',
  'Memory bandwidth: 238.991 MiB/s',
  'Dirty rate:       0            pages/s',
  'Page size:        4096         bytes',
  'Iteration:        3           ',
  'Postcopy requests: 0           ',
  'Constant pages:   110301      ',
  'Normal pages:     20876       ',
  'Normal data:      81.547 MiB',
  'Total downtime:   237          ms',
  'Downtime w/o network: 234          ms',
  'Setup time:       1            ms',
  '',
  '',
].join('\n');

test('formatJobInfo() matches "domjobinfo --completed on source A" byte for byte', () => {
  assert.equal(formatJobInfo(completedSource, { completed: true }), completedSourceText);
});

test('formatJobInfo() leaves out the "w/o network" lines when the daemon does not send them', () => {
  const plain: JobInfo = { ...completedSource };
  delete plain.timeElapsedNetMs;
  delete plain.downtimeNetMs;
  assert.equal(
    formatJobInfo(plain, { completed: true }),
    completedSourceText
      .replace('Time elapsed w/o network: 794          ms\n', '')
      .replace('Downtime w/o network: 234          ms\n', ''),
  );
});

test('formatJobInfo() shows only the type of a completed job without --completed, like virsh', () => {
  assert.equal(formatJobInfo(completedSource), 'Job type:         Completed   \n\n');
});

test('formatJobInfo() shows a failed job only by type, its statistics with --anystats', () => {
  const failed: JobInfo = { type: 'Failed', status: 'failed', timeElapsedMs: 5, error: 'boom' };
  assert.equal(formatJobInfo(failed), 'Job type:         Failed      \n\n');
  assert.equal(
    formatJobInfo(failed, { anyStats: true }),
    'Job type:         Failed      \nTime elapsed:     5            ms\nError message:    boom\n\n',
  );
});

test('formatCapacity() picks units like vshPrettyCapacity and rounds ties to even', () => {
  assert.equal(formatCapacity(0), '0.000 B');
  assert.equal(formatCapacity(1023), '1023.000 B');
  assert.equal(formatCapacity(1024), '1.000 KiB');
  assert.equal(formatCapacity(512.375 * MiB), '512.375 MiB');
  assert.equal(formatCapacity(3 * 1024 * MiB), '3.000 GiB');
  // 1.0625 MiB and 1.1875 MiB are exact ties at three decimals: printf rounds to even.
  assert.equal(formatCapacity(1.0625 * MiB), '1.062 MiB');
  assert.equal(formatCapacity(1.1875 * MiB), '1.188 MiB');
  assert.equal(formatCapacity(1.0005 * MiB), '1.000 MiB');
});

test('formatJobInfo() shows a paused post-copy on a line of its own, after the operation', () => {
  const text = formatJobInfo({
    type: 'Unbounded',
    operation: 'Incoming migration',
    status: 'postcopy-paused',
    postcopy: true,
    postcopyRecovery: 'paused; waiting for the source to resume the stream',
    timeElapsedMs: 0,
  });
  assert.equal(
    text,
    'Job type:         Unbounded   \nOperation:        Incoming migration\n' +
      'Post-copy:        paused; waiting for the source to resume the stream\n' +
      'Time elapsed:     0            ms\n\n',
  );
});

test('formatJobInfo() shows a storage copy as virsh does: File lines after Postcopy requests, Memory = Data - File', () => {
  const out = formatJobInfo({
    type: 'Unbounded',
    operation: 'Outgoing migration',
    status: 'active',
    timeElapsedMs: 1500,
    dataProcessed: 300 * MiB,
    dataRemaining: 212 * MiB,
    dataTotal: 512 * MiB,
    pageSize: 4096,
    iteration: 1,
    postcopyRequests: 0,
    diskProcessed: 256 * MiB,
    diskRemaining: 0,
    diskTotal: 256 * MiB,
    diskBandwidth: 128 * MiB,
  });
  const lines = out.split('\n');
  const at = (label: string): number => lines.findIndex((l) => l.startsWith(label));
  assert.equal(lines[at('Memory processed:')], 'Memory processed: 44.000 MiB');
  assert.equal(lines[at('Memory total:')], 'Memory total:     256.000 MiB');
  assert.equal(lines[at('File processed:')], 'File processed:   256.000 MiB');
  assert.equal(lines[at('File remaining:')], 'File remaining:   0.000 B');
  assert.equal(lines[at('File total:')], 'File total:       256.000 MiB');
  assert.equal(lines[at('File bandwidth:')], 'File bandwidth:   128.000 MiB/s');
  assert.equal(at('File processed:'), at('Postcopy requests:') + 1);
});
