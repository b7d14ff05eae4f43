import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FleetStore, hostIdOf } from './fleet-store.js';

function store(t: TestContext): FleetStore {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hosts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return new FleetStore(join(dir, 'state', 'fleet-hosts.json'));
}

void test('hostIdOf() is stable, short and never "local"', () => {
  const id = hostIdOf('qemu+tcp://h2/system');
  assert.equal(id, hostIdOf('qemu+tcp://h2/system'));
  assert.notEqual(id, hostIdOf('qemu+tcp://h3/system'));
  assert.match(id, /^h[0-9a-f]{10}$/);
});

void test('FleetStore: empty when missing; concurrent updates all land; atomic file', async (t) => {
  const hosts = store(t);
  assert.deepEqual(await hosts.list(), []);
  const uris = ['qemu+tcp://a/system', 'qemu+tcp://b/system', 'qemu+tcp://c/system'];
  await Promise.all(
    uris.map((uri) =>
      hosts.update((list) => ({ hosts: [...list, { id: hostIdOf(uri), uri }], answer: undefined })),
    ),
  );
  assert.deepEqual(
    (await hosts.list()).map((h) => h.uri),
    uris,
  );
  assert.deepEqual(JSON.parse(readFileSync(hosts.file, 'utf8')), {
    hosts: uris.map((uri) => ({ id: hostIdOf(uri), uri })),
  });
  assert.deepEqual(
    readdirSync(join(hosts.file, '..')),
    ['fleet-hosts.json'],
    'no temporary file left',
  );
});

void test('FleetStore: a failed change writes nothing; a malformed file is an error, kept', async (t) => {
  const hosts = store(t);
  await hosts.update(() => ({ hosts: [{ id: 'h1', uri: 'u' }], answer: undefined }));
  await assert.rejects(
    hosts.update(() => {
      throw new Error('no');
    }),
    /no/,
  );
  assert.equal((await hosts.list()).length, 1);
  writeFileSync(hosts.file, '{"hosts": [{"id": 1}]}');
  await assert.rejects(hosts.list(), {
    code: 'SYSTEM_ERROR',
    message: /Malformed fleet hosts file .*host 1 needs an id and a uri/,
  });
  await assert.rejects(
    hosts.update((l) => ({ hosts: l, answer: undefined })),
    { code: 'SYSTEM_ERROR' },
  );
  assert.equal(readFileSync(hosts.file, 'utf8'), '{"hosts": [{"id": 1}]}');
});
