/**
 * fleet.cpuBaseline's logic over members that judge guests with the real CPU check: the
 * baseline every member accepts, the guests some member cannot run with the reason, and
 * --apply's edits and refusals (a refusal changes nothing anywhere).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDomainXml } from '../domain/xml/index.js';
import { fleetCpuBaseline } from './cpu-baseline.js';
import { FakeMember, domainXml, map, models } from './cpu-test-hosts.js';

const WESTMERE = "<cpu mode='custom' match='exact'><model fallback='forbid'>Westmere</model></cpu>";

function fleet(): { h1: FakeMember; h2: FakeMember } {
  const h1 = new FakeMember('h1', undefined, [
    { name: 'wm', persistent: true, active: true, xml: domainXml('wm', WESTMERE) },
    { name: 'plain', persistent: true, active: false, xml: domainXml('plain', undefined) },
    { name: 'tr', persistent: false, active: true, xml: domainXml('tr', WESTMERE) },
  ]);
  const h2 = new FakeMember('h2', 'Nehalem');
  return { h1, h2 };
}

test('an AMD TCG host and a Nehalem-limited one: the baseline is Nehalem, the Westmere guests are named', async () => {
  const { h1, h2 } = fleet();
  const r = await fleetCpuBaseline({ members: [h1, h2], map, models });
  assert.equal(r.model, 'Nehalem');
  assert.match(
    r.cpuXml,
    /^<cpu mode='custom' match='exact'>\n {2}<model fallback='forbid'>Nehalem<\/model>\n/,
  );
  assert.deepEqual(r.hosts, [
    { host: 'h1', model: 'EPYC' },
    { host: 'h2', model: 'Nehalem' },
  ]);
  const h1OnH2 = r.matrix.find((m) => m.from === 'h1' && m.to === 'h2');
  assert.equal(h1OnH2?.ok, false);
  assert.ok(h1OnH2.missing.includes('aes'), JSON.stringify(h1OnH2));
  assert.deepEqual(
    r.matrix.find((m) => m.from === 'h2' && m.to === 'h1'),
    {
      from: 'h2',
      to: 'h1',
      ok: true,
      missing: [],
    },
  );
  assert.deepEqual(
    r.guests.map((g) => [g.guest, g.host, g.cannotRunOn.map((c) => c.host)]),
    [
      ['wm', 'h1', ['h2']],
      ['plain', 'h1', ['h2']],
      ['tr', 'h1', ['h2']],
    ],
  );
  // No <cpu>: QEMU's qemu64, which needs svm; h2 refuses it as a migration's destination would.
  assert.match(
    r.guests[1]?.cannotRunOn[0]?.reason ?? '',
    /QEMU's default CPU \(qemu64\) needs \(svm\)/,
  );
  assert.match(
    r.guests[0]?.cannotRunOn[0]?.reason ?? '',
    /lacks features guest CPU Westmere needs \(aes\)/,
  );
  assert.deepEqual(r.applied, []);
  assert.deepEqual(h1.defined, []);
});

test('--apply sets the baseline in the persistent definitions named, leaving the rest of the XML', async () => {
  const { h1, h2 } = fleet();
  const r = await fleetCpuBaseline({ members: [h1, h2], map, models, apply: ['wm', 'plain'] });
  assert.deepEqual(r.applied, [
    { guest: 'wm', host: 'h1' },
    { guest: 'plain', host: 'h1' },
  ]);
  assert.equal(h1.defined.length, 2);
  const [wm, plain] = h1.defined.map((x) => parseDomainXml(x).def);
  assert.equal(wm?.cpu?.model?.name, 'Nehalem');
  assert.equal(wm.cpu.mode, 'custom');
  assert.equal(wm.cpu.match, 'exact');
  assert.equal(plain?.cpu?.model?.name, 'Nehalem');
  // Only the <cpu> changed.
  const strip = (x: string): string => x.replace(/\s*<cpu[\s\S]*?<\/cpu>/, '');
  assert.equal(strip(h1.defined[0] ?? ''), strip(domainXml('wm', WESTMERE)));
  assert.equal(strip(h1.defined[1] ?? ''), domainXml('plain', undefined));
  // With the baseline, h2 can take them: asked again, no guest but the transient one is named.
  const wmAfter = { name: 'wm', persistent: true, active: false, xml: h1.defined[0] ?? '' };
  const again = await fleetCpuBaseline({
    members: [new FakeMember('h1', undefined, [wmAfter]), h2],
    map,
    models,
  });
  assert.deepEqual(again.guests, []);
});

for (const [apply, message] of [
  [['wm', 'nosuch'], /No guest 'nosuch' on any fleet member; nothing was changed/],
  [['wm', 'tr'], /Domain 'tr' on h1 is transient: .*nothing was changed/],
] as const) {
  test(`--apply ${apply.join(' ')} is refused and changes nothing`, async () => {
    const { h1, h2 } = fleet();
    await assert.rejects(fleetCpuBaseline({ members: [h1, h2], map, models, apply: [...apply] }), {
      message,
    });
    assert.deepEqual(h1.defined, []);
  });
}

test('a guest name on two members is ambiguous and changes nothing', async () => {
  const { h1 } = fleet();
  const other = new FakeMember('h3', 'Westmere', [
    { name: 'wm', persistent: true, active: false, xml: domainXml('wm', WESTMERE) },
  ]);
  await assert.rejects(fleetCpuBaseline({ members: [h1, other], map, models, apply: ['wm'] }), {
    code: 'INVALID_ARG',
    message: /Guest 'wm' is on several fleet members \(h1, h3\)/,
  });
  assert.deepEqual(h1.defined, []);
  assert.deepEqual(other.defined, []);
});
