/**
 * Migration between real network peers: two testbed hosts (network + mount namespaces, each
 * with its own ferryd and sshd), reached the way the chapter writes it, `qemu+ssh://HOST/system`.
 * The guest's serial log lives in the shared /tmp, so its heartbeats tell one continuous life
 * across hosts.
 * @module
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import {
  assertOneLife,
  BANDWIDTH_CAP,
  jobField,
  keepsBeating,
  NON_CONVERGING,
  waitForJob,
  waitUntil,
} from '../helpers/migration.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { useTestbed } from '../helpers/testbed.js';

void test('the chapter’s migrate commands between two hosts over qemu+ssh', async (t) => {
  const tb = await useTestbed(t, { hosts: 2 });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  const serial = await startGuestOn(t, h1, { name: 'vm1', hbMs: 200 });
  await startGuestOn(t, h1, { name: 'vm2' }, false);

  // 10.4: offline, then live, each with --persistent, over an SSH tunnel.
  await h1.ferryOk('migrate', '--offline', '--persistent', 'vm2', h2.sshUri);
  assert.deepEqual(await listOf(h1, h2.sshUri), [['vm2', 'shut off']]);
  const live = await h1.ferry('migrate', '--live', '--persistent', '--verbose', 'vm1', h2.sshUri);
  assert.equal(live.code, 0, live.stderr);
  assert.match(live.stderr, /Migration: \[100 %\]/);
  // Verification step: running on the destination, shut off on the source.
  assert.deepEqual(await listOf(h2), [
    ['vm1', 'running'],
    ['vm2', 'shut off'],
  ]);
  assert.deepEqual(await listOf(h1), [
    ['vm1', 'shut off'],
    ['vm2', 'shut off'],
  ]);
  const done = await h1.ferryOk('-c', h2.sshUri, 'domjobinfo', 'vm1', '--completed');
  assert.equal(jobField(done, 'Job type'), 'Completed');
  assert.equal(jobField(done, 'Operation'), 'Incoming migration');
  await keepsBeating(serial);

  // Back, with parallel streams (the chapter's --parallel --parallel-connections 4).
  await h2.ferryOk(
    'migrate',
    '--live',
    '--persistent',
    '--undefinesource',
    '--parallel',
    '--parallel-connections',
    '4',
    'vm1',
    h1.sshUri,
  );
  assert.equal((await listOf(h1)).find(([n]) => n === 'vm1')?.[1], 'running');
  await keepsBeating(serial);

  // Again, with --auto-converge and the downtime raised while the job runs.
  const migrating = h1.ferryOk(
    'migrate',
    '--live',
    '--persistent',
    '--auto-converge',
    '--bandwidth',
    BANDWIDTH_CAP,
    'vm1',
    h2.sshUri,
  );
  await waitForJob(h1, 'vm1', (info) => jobField(info, 'Job type') === 'Unbounded');
  await h1.ferryOk('migrate-setmaxdowntime', 'vm1', '500');
  assert.equal((await h1.ferryOk('migrate-getmaxdowntime', 'vm1')).trim(), '500');
  await migrating;
  assert.equal((await listOf(h2, undefined)).find(([n]) => n === 'vm1')?.[1], 'running');
  await keepsBeating(serial);
  assertOneLife(serial);
});

void test('post-copy after a timeout finishes a migration pre-copy cannot, over qemu+ssh', async (t) => {
  const tb = await useTestbed(t, { hosts: 2 });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  const serial = await startGuestOn(t, h1, { name: 'busy', ...NON_CONVERGING });
  // The chapter: --postcopy --timeout N --timeout-postcopy.
  const out = await h1.ferryOk(
    'migrate',
    '--live',
    '--persistent',
    '--postcopy',
    '--timeout',
    '3',
    '--timeout-postcopy',
    '--bandwidth',
    BANDWIDTH_CAP,
    'busy',
    h2.sshUri,
  );
  assert.equal(out.trim(), '');
  const done = await h2.ferryOk('domjobinfo', 'busy', '--completed');
  assert.equal(jobField(done, 'Job type'), 'Completed');
  assert.equal((await listOf(h2)).find(([n]) => n === 'busy')?.[1], 'running');
  await keepsBeating(serial);
  assertOneLife(serial);
});

void test('ssh failures are one clear line and change nothing', async (t) => {
  const tb = await useTestbed(t, { hosts: 2 });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  const serial = await startGuestOn(t, h1, { name: 'vm1' });

  // A host key that does not match what known_hosts says (another key under h2's name).
  await h1.exec([
    'bash',
    '-c',
    `k=$(mktemp -u) && ssh-keygen -q -t ed25519 -N '' -f "$k" && ` +
      `sed -i '/^${h2.name},/d' /root/.ssh/known_hosts && ` +
      `echo "${h2.name},${h2.address} $(cut -d' ' -f1,2 "$k.pub")" >> /root/.ssh/known_hosts && rm -f "$k" "$k.pub"`,
  ]);
  let r = await h1.ferry('migrate', '--live', '--persistent', 'vm1', h2.sshUri);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: Cannot reach destination qemu\+ssh:\/\/h2\/system: .*Host key verification failed\.$/m,
  );

  // No ferryd behind a working ssh.
  r = await h1.ferry('-c', `${h2.sshUri}?no_verify=1&socket=/run/ferry/nothing`, 'list');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /Cannot connect to h2 over ssh: Failed to connect socket to '\/run\/ferry\/nothing': No such file or directory/,
  );

  // A key the destination does not accept.
  const key = join(mkdtempSync(join(tmpdir(), 'ferry-key-')), 'id');
  t.after(() => rmSync(join(key, '..'), { recursive: true, force: true }));
  await h1.exec(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key]);
  r = await h1.ferry('-c', `${h2.sshUri}?no_verify=1&keyfile=${key}`, 'list');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Cannot connect to h2 over ssh: .*Permission denied \(publickey/);

  // Nothing changed: the guest runs on h1 only, h2 has nothing.
  assert.deepEqual(await listOf(h1), [['vm1', 'running']]);
  assert.deepEqual(await listOf(h2), []);
  await keepsBeating(serial);
  assertOneLife(serial);
  await waitUntil('h2 has no QEMU', async () => (await listOf(h2)).length === 0);
});
