/**
 * A mixed fleet on one machine: testbed host h2 has `cpu_limit = "Nehalem"` (an Intel Nehalem
 * as far as guests can tell), h1 offers all QEMU can run under TCG (an AMD-vendor CPU). The
 * destination refuses guests whose CPU it cannot run, naming why, in the preflight every
 * migration runs first (its prepare would refuse the same way); the guest keeps running on
 * the source; a guest with a CPU both can run migrates.
 * @module
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import { assertOneLife, keepsBeating } from '../helpers/migration.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { useTestbed } from '../helpers/testbed.js';

const cpu = (inner: string): string => `\n  ${inner}`;

async function refusedMigration(
  h1: TestbedHost,
  h2: TestbedHost,
  name: string,
  serial: string,
  reason: RegExp,
): Promise<void> {
  const r = await h1.ferry('migrate', '--live', '--persistent', name, h2.sshUri);
  assert.equal(r.code, 1, r.stderr);
  // The preflight every migration runs first asks the destination, which refuses with the
  // same reason its prepare would give.
  assert.match(r.stderr, /error: preflight failed: cpu: /);
  assert.match(r.stderr, reason);
  const dry = await h1.ferry('migrate', '--live', '--dry-run', '--no-measure', name, h2.sshUri);
  assert.equal(dry.code, 1, dry.stderr);
  assert.match(dry.stdout, /fail +cpu +/);
  assert.match(dry.stdout, reason);
  // Nothing moved: running here, absent there, and still alive.
  assert.equal((await listOf(h1)).find(([n]) => n === name)?.[1], 'running');
  assert.equal(
    (await listOf(h2)).find(([n]) => n === name),
    undefined,
  );
  await keepsBeating(serial);
}

void test('a Nehalem-limited destination refuses Westmere, AMD and host-passthrough guests and takes a Nehalem one', async (t) => {
  const tb = await useTestbed(t, {
    hosts: 2,
    extraConfig: (h) => (h === 'h2' ? 'cpu_limit = "Nehalem"\n' : ''),
  });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  assert.match(
    await h2.ferryOk('domcapabilities'),
    /<model fallback='forbid'>Nehalem<\/model>\n {6}<vendor>Intel<\/vendor>/,
  );

  const westmere = await startGuestOn(t, h1, {
    name: 'wm',
    extraTop: cpu(
      "<cpu mode='custom' match='exact'><model fallback='forbid'>Westmere</model></cpu>",
    ),
  });
  await refusedMigration(
    h1,
    h2,
    'wm',
    westmere,
    /destination CPU lacks features guest CPU Westmere needs \(aes\)/,
  );

  const opteron = await startGuestOn(t, h1, {
    name: 'amd',
    extraTop: cpu("<cpu mode='custom' match='exact'><model>Opteron_G2</model></cpu>"),
  });
  await refusedMigration(
    h1,
    h2,
    'amd',
    opteron,
    /guest CPU vendor AMD differs from this host's Intel: migrating between an Intel 64 host and an AMD64 host is unsupported/,
  );
  await h1.ferryOk('destroy', 'amd');

  const passthrough = await startGuestOn(t, h1, {
    name: 'pt',
    extraTop: cpu("<cpu mode='host-passthrough'/>"),
  });
  await refusedMigration(
    h1,
    h2,
    'pt',
    passthrough,
    /source host CPU vendor AMD differs from this host's Intel/,
  );
  await h1.ferryOk('destroy', 'pt');

  // The same guest, given a CPU both hosts offer (the baseline of the two), migrates.
  await h1.ferryOk('destroy', 'wm');
  await h1.ferryOk('undefine', 'wm');
  const nehalem = await startGuestOn(t, h1, {
    name: 'wm',
    extraTop: cpu(
      "<cpu mode='custom' match='exact'><model fallback='forbid'>Nehalem</model></cpu>",
    ),
  });
  const live = await h1.ferry('migrate', '--live', '--persistent', 'wm', h2.sshUri);
  assert.equal(live.code, 0, live.stderr);
  assert.equal((await listOf(h2)).find(([n]) => n === 'wm')?.[1], 'running');
  await keepsBeating(nehalem);
  assertOneLife(nehalem);
});
