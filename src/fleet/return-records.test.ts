import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReturnRecords } from './return-records.js';

test('ReturnRecords keeps one record per guest, lists by home host, forgets on remove', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-returns-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const records = new ReturnRecords(join(dir, 'state', 'fleet-returns.json'));
  assert.deepEqual(await records.list(), []);
  await Promise.all([
    records.add({ host: 'h1', guest: 'a', uuid: 'u-a', to: 'h2' }),
    records.add({ host: 'h1', guest: 'b', uuid: 'u-b', to: 'h3' }),
    records.add({ host: 'h2', guest: 'c', uuid: 'u-c', to: 'h3' }),
  ]);
  await records.add({ host: 'h1', guest: 'a', uuid: 'u-a', to: 'h3' });
  assert.deepEqual(
    (await records.list('h1')).map((r) => `${r.guest}:${r.to}`),
    ['b:h3', 'a:h3'],
  );
  await records.remove('u-b');
  assert.deepEqual(
    (await records.list()).map((r) => r.guest),
    ['c', 'a'],
  );
});

test('ReturnRecords refuses a malformed file and leaves it as it was', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-returns-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fleet-returns.json');
  writeFileSync(file, '{"returns": [{"host": "h1"}]}');
  const records = new ReturnRecords(file);
  await assert.rejects(records.add({ host: 'h1', guest: 'a', uuid: 'u', to: 'h2' }), {
    message: /Malformed fleet returns file .*entry 1 needs host, guest, uuid and to/,
  });
  assert.equal(readFileSync(file, 'utf8'), '{"returns": [{"host": "h1"}]}');
});
