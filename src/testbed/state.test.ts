import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  makeTestbedDir,
  readRecord,
  releaseStaleSubnets,
  releaseSubnet,
  reserveSubnet,
  testbedDirs,
  writeRecord,
  type TestbedRecord,
} from './state.js';

function tempRoot(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-tb-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('reserveSubnet() gives each testbed its own subnet and reuses released ones', (t) => {
  const root = tempRoot(t);
  assert.equal(reserveSubnet(root, 'a'), 1);
  assert.equal(reserveSubnet(root, 'b'), 2);
  assert.equal(reserveSubnet(root, 'c'), 3);
  releaseSubnet(root, 2, 'someone-else');
  assert.equal(readlinkSync(join(root, 'subnet-2')), 'b', 'only the holder releases');
  releaseSubnet(root, 2, 'b');
  assert.equal(reserveSubnet(root, 'd'), 2);
});

test('releaseStaleSubnets() frees subnets of testbeds whose directory is gone', (t) => {
  const root = tempRoot(t);
  makeTestbedDir(root, 'alive');
  assert.equal(reserveSubnet(root, 'alive'), 1);
  assert.equal(reserveSubnet(root, 'crashed'), 2);
  releaseStaleSubnets(root);
  assert.equal(reserveSubnet(root, 'next'), 2);
  assert.deepEqual(testbedDirs(root), [join(root, 'alive')], 'reservations are not testbeds');
});

test('makeTestbedDir() refuses a name in use', (t) => {
  const root = tempRoot(t);
  makeTestbedDir(root, 'x');
  assert.throws(() => makeTestbedDir(root, 'x'), /A testbed named 'x' exists already/);
});

test('a record survives the round trip; a corrupt one is an error naming the file', (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'tb');
  mkdirSync(dir);
  const rec: TestbedRecord = {
    version: 1,
    name: 'tb',
    namespaces: true,
    dir,
    subnet: 4,
    owner: { pid: 1, startTime: 2 },
    createdAt: '2025-01-01T00:00:00.000Z',
    sshd: true,
    hosts: [{ name: 'h1', index: 1, address: '10.77.4.11', dir: join(dir, 'h1'), netns: 'tb-h1' }],
  };
  writeRecord(rec);
  assert.deepEqual(readRecord(dir), rec);
  writeFileSync(join(dir, 'testbed.json'), '{"version":1}');
  assert.throws(() => readRecord(dir), /Testbed record .*testbed\.json is corrupt/);
  assert.throws(() => readRecord(join(root, 'none')), /No testbed at/);
});
