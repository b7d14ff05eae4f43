import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigrationJournal, type DestinationEntry, type SourceEntry } from './journal.js';
import { MigrateFlags } from '../rpc/schema/migration.js';

function journalIn(t: TestContext): { journal: MigrationJournal; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { journal: new MigrationJournal(dir), dir };
}

const source = (jobId: string, startedAt = 1): SourceEntry => ({
  role: 'source',
  jobId,
  domainUuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809',
  domainName: 'vm',
  startedAt,
  phase: 'performing',
  destUri: 'qemu+tcp://127.0.0.2:16509/system',
  destJobId: 'd-1',
  flags: MigrateFlags.parse({ live: true, persistent: true }),
  wasRunning: true,
});

const destination = (jobId: string): DestinationEntry => ({
  role: 'destination',
  jobId,
  domainUuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809',
  domainName: 'vm',
  startedAt: 2,
  phase: 'prepared',
  sourceHostUuid: 'a',
  existedBefore: false,
  persistent: true,
  suspend: false,
});

test('a journal entry reads back as written, and its last phase wins', (t) => {
  const { journal } = journalIn(t);
  const entry = source('out-1');
  journal.write(entry);
  journal.write({ ...entry, phase: 'switching' });
  assert.deepEqual(journal.get('source', 'out-1'), { ...entry, phase: 'switching' });
  assert.equal(journal.get('destination', 'out-1'), undefined, 'roles do not mix');
});

test('finish() records the outcome and the statistics domjobinfo --completed shows', (t) => {
  const { journal } = journalIn(t);
  const done = journal.finish(destination('d-1'), 'completed', {
    type: 'Completed',
    status: 'completed',
    totalDowntimeMs: 12,
  });
  assert.equal(done.phase, 'done');
  const read = journal.get('destination', 'd-1');
  assert.ok(read !== undefined);
  assert.equal(read.outcome, 'completed');
  assert.equal(read.stats?.totalDowntimeMs, 12);
});

test('load() returns entries oldest first, reports unreadable files and prunes old finished jobs', (t) => {
  const { journal, dir } = journalIn(t);
  journal.write(source('out-2', 20));
  journal.write(source('out-1', 10));
  journal.finish(destination('old'), 'failed', { type: 'Failed', status: 'failed' });
  const dayAgo = (Date.now() - 25 * 3600_000) / 1000;
  utimesSync(join(dir, 'destination-old.json'), dayAgo, dayAgo);
  writeFileSync(join(dir, 'source-torn.json'), '{"role":"source","jobId":');
  const bad: string[] = [];
  const entries = journal.load((file) => bad.push(file));
  assert.deepEqual(
    entries.map((e) => e.jobId),
    ['out-1', 'out-2'],
  );
  assert.deepEqual(bad, [join(dir, 'source-torn.json')], 'a torn file is reported, not trusted');
  assert.ok(!readdirSync(dir).includes('destination-old.json'), 'a day-old finished job is pruned');
});

test('job ids from a peer cannot name a file outside the journal', (t) => {
  const { journal, dir } = journalIn(t);
  journal.write(destination('../../etc/evil'));
  assert.deepEqual(readdirSync(dir), ['destination-______etc_evil.json']);
  assert.equal(journal.get('destination', '../../etc/evil')?.jobId, '../../etc/evil');
});

test('a destination entry keeps where the stream listens, and older entries without it still read', (t) => {
  const { journal, dir } = journalIn(t);
  const entry = { ...destination('d-ssh'), listen: '0.0.0.0', destHost: 'h2' };
  journal.write(entry);
  assert.deepEqual(journal.get('destination', 'd-ssh'), entry);
  // Written by a ferryd from before these fields: no listen, no destHost.
  writeFileSync(join(dir, 'destination-d-old.json'), `${JSON.stringify(destination('d-old'))}\n`);
  assert.deepEqual(journal.get('destination', 'd-old'), destination('d-old'));
});
