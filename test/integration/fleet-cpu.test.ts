/**
 * `ferry fleet cpu-baseline` on a two-host testbed where h2 has `cpu_limit = "Nehalem"` and h1
 * offers all QEMU can run under TCG (an AMD-vendor CPU): the fleet's baseline is Nehalem, the
 * matrix says h2 cannot run h1's host-model CPU (aes among what it lacks), Westmere guests on
 * h1 are named as unable to run on h2; --apply refuses unknown guests changing nothing, and
 * sets the baseline in a shut-off guest's definition, after which that guest starts and
 * migrates live to h2.
 * @module
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FLEET_HOSTS_FILE, hostIdOf } from '../../src/fleet/index.js';
import type { FleetCpuBaselineResult } from '../../src/cli/format/fleet-cpu.js';
import type { TestbedHost } from '../../src/testbed/index.js';
import { assertOneLife, keepsBeating } from '../helpers/migration.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { useTestbed } from '../helpers/testbed.js';

const WESTMERE =
  "\n  <cpu mode='custom' match='exact'><model fallback='forbid'>Westmere</model></cpu>";

async function baseline(h: TestbedHost): Promise<FleetCpuBaselineResult> {
  return JSON.parse(await h.ferryOk('fleet', 'cpu-baseline', '--json')) as FleetCpuBaselineResult;
}

void test('fleet cpu-baseline over an unlimited and a Nehalem-limited host, and --apply', async (t) => {
  const tb = await useTestbed(t, {
    hosts: 2,
    extraConfig: (h) => (h === 'h2' ? 'cpu_limit = "Nehalem"\n' : ''),
  });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  // h2 joins h1's fleet (as `ferry fleet add` records it).
  writeFileSync(
    join(h1.paths.stateDir, FLEET_HOSTS_FILE),
    JSON.stringify({ hosts: [{ id: hostIdOf(h2.tcpUri), uri: h2.tcpUri }] }),
  );
  const running = await startGuestOn(t, h1, { name: 'wm', extraTop: WESTMERE });
  const cold = await startGuestOn(t, h1, { name: 'cold', extraTop: WESTMERE }, false);

  const r = await baseline(h1);
  const [one, two] = r.hosts.map((h) => h.host);
  assert.equal(r.hosts.length, 2, JSON.stringify(r.hosts));
  assert.equal(r.hosts[1]?.model, 'Nehalem');
  // At most Nehalem: h2, which offers exactly Nehalem, can run it.
  assert.equal(r.model, 'Nehalem');
  assert.match(
    r.cpuXml,
    /^<cpu mode='custom' match='exact'>\n {2}<model fallback='forbid'>Nehalem<\/model>/,
  );
  const oneOnTwo = r.matrix.find((m) => m.from === one && m.to === two);
  assert.equal(oneOnTwo?.ok, false);
  assert.ok(oneOnTwo.missing.includes('aes'), JSON.stringify(oneOnTwo));
  assert.deepEqual(
    r.matrix.find((m) => m.from === two && m.to === one),
    { from: two, to: one, ok: true, missing: [] },
  );
  for (const name of ['wm', 'cold']) {
    const g = r.guests.find((x) => x.guest === name);
    assert.equal(g?.host, one, JSON.stringify(r.guests));
    assert.equal(g?.cannotRunOn[0]?.host, two);
    assert.match(
      g?.cannotRunOn[0]?.reason ?? '',
      /lacks features guest CPU Westmere needs \(aes\)/,
    );
  }

  const text = await h1.ferryOk('fleet', 'cpu-baseline');
  assert.match(text, /<model fallback='forbid'>Nehalem<\/model>/);
  assert.match(text, /no: missing /);
  assert.match(text, new RegExp(`cold \\(on ${one}\\) cannot run on ${two}: .*\\(aes\\)`));

  // A name no member has: refused, and the other named guest keeps its definition.
  const bad = await h1.ferry('fleet', 'cpu-baseline', '--apply', 'cold', '--apply', 'nosuch');
  assert.equal(bad.code, 1, bad.stdout);
  assert.match(bad.stderr, /^error: No guest 'nosuch' on any fleet member; nothing was changed\n$/);
  assert.match(await h1.ferryOk('dumpxml', '--inactive', 'cold'), /Westmere/);

  const applied = await h1.ferryOk('fleet', 'cpu-baseline', '--apply', 'cold', '--apply', 'wm');
  assert.match(
    applied,
    new RegExp(
      `Domain 'cold' on ${one}: CPU set to the fleet baseline \\(Nehalem\\); takes effect at its next start`,
    ),
  );
  assert.match(applied, new RegExp(`Domain 'wm' on ${one}: CPU set to the fleet baseline`));
  // The running guest keeps its CPU until its next start; its definition has the baseline.
  assert.match(await h1.ferryOk('dumpxml', 'wm'), /Westmere/);
  assert.match(
    await h1.ferryOk('dumpxml', '--inactive', 'wm'),
    /<model fallback='forbid'>Nehalem<\/model>/,
  );
  const coldXml = await h1.ferryOk('dumpxml', '--inactive', 'cold');
  assert.match(coldXml, /<model fallback='forbid'>Nehalem<\/model>/);
  assert.doesNotMatch(coldXml, /Westmere/);
  await keepsBeating(running);

  // The shut-off guest now starts with the baseline and moves to the limited host.
  await h1.ferryOk('start', 'cold');
  await keepsBeating(cold);
  const live = await h1.ferry('migrate', '--live', '--persistent', 'cold', h2.sshUri);
  assert.equal(live.code, 0, live.stderr);
  assert.equal((await listOf(h2)).find(([n]) => n === 'cold')?.[1], 'running');
  await keepsBeating(cold);
  assertOneLife(cold);
  // And the fleet no longer names it (it runs the baseline); the running Westmere guest still.
  const after = await baseline(h1);
  assert.equal(
    after.guests.find((g) => g.guest === 'cold'),
    undefined,
    JSON.stringify(after.guests),
  );
  assert.ok(after.guests.some((g) => g.guest === 'wm'));
  await h1.ferryOk('destroy', 'wm');
  await h2.ferryOk('destroy', 'cold');
});
