import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noRunningJob } from './incoming-postcopy.js';
import { MigrationJournal, type DestinationEntry } from './journal.js';
import { streamUris } from './ports.js';

function journalIn(t: TestContext): MigrationJournal {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return new MigrationJournal(dir);
}

const entry = (jobId: string, phase: DestinationEntry['phase']): DestinationEntry => ({
  role: 'destination',
  jobId,
  domainUuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809',
  domainName: 'vm',
  startedAt: 2,
  phase,
  sourceHostUuid: 'a',
  existedBefore: false,
  persistent: true,
  suspend: false,
  postcopyPaused: true,
});

test('noRunningJob() tells a peer claiming an unknown or ended job so, and a recovering one to retry', (t) => {
  const journal = journalIn(t);
  const unknown = noRunningJob(journal, 'no-such-job');
  assert.equal(unknown.code, 'OPERATION_INVALID');
  assert.equal(
    unknown.message,
    "Requested operation is not valid: no incoming migration job 'no-such-job' on this host",
  );

  journal.finish(entry('j-done', 'resuming'), 'completed', {
    type: 'Completed',
    status: 'completed',
  });
  assert.equal(
    noRunningJob(journal, 'j-done').message,
    "Requested operation is not valid: the incoming migration job 'j-done' of 'vm' has ended (completed)",
  );

  // Journaled as running, not taken up yet (a ferryd starting): worth another try.
  journal.write(entry('j-paused', 'resuming'));
  const later = noRunningJob(journal, 'j-paused');
  assert.equal(later.code, 'OPERATION_FAILED');
  assert.match(later.message, /is being recovered; try again/);
});

test('streamUris() listens where asked and tells the source an address it can reach', () => {
  assert.deepEqual(streamUris('10.77.1.12', 49153), {
    listen: 'tcp:10.77.1.12:49153',
    advertised: 'tcp:10.77.1.12:49153',
  });
  assert.deepEqual(streamUris('0.0.0.0', 49152), {
    listen: 'tcp:0.0.0.0:49152',
    advertised: 'tcp:127.0.0.1:49152',
  });
  assert.deepEqual(streamUris('fd00::2', 49152), {
    listen: 'tcp:[fd00::2]:49152',
    advertised: 'tcp:[fd00::2]:49152',
  });
});
