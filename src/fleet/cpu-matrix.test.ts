/**
 * The fleet's baseline must be what hypervisor-cpu-baseline answers for the same hosts' host
 * models, and the matrix must name the features a host lacks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineCpuXml } from '../cpu/baseline-xml.js';
import type { HostCpuModel } from '../rpc/schema/cpu.js';
import { baselineCandidates, baselineXml, hostMatrix } from './cpu-matrix.js';
import { hostCpu, map, models } from './cpu-test-hosts.js';

/** The host models as a domcapabilities-style file hypervisor-cpu-baseline reads. */
function hostModelFile(cpus: HostCpuModel[]): string {
  return cpus
    .map((c) =>
      [
        "<mode name='host-model' supported='yes'>",
        `<model fallback='forbid'>${c.model}</model>`,
        ...(c.vendor === '' ? [] : [`<vendor>${c.vendor}</vendor>`]),
        ...c.features.map((f) => `<feature policy='${f.policy}' name='${f.name}'/>`),
        '</mode>',
      ].join('\n'),
    )
    .join('\n');
}

test('hosts of one vendor: the baseline is exactly hypervisor-cpu-baseline of their host models', () => {
  const hosts = [
    { host: 'h1', cpu: hostCpu('Westmere') },
    { host: 'h2', cpu: hostCpu('Nehalem') },
    { host: 'h3', cpu: hostCpu('SandyBridge') },
  ];
  const [first, ...rest] = baselineCandidates(hosts, map, models);
  assert.equal(rest.length, 0);
  assert.ok(first);
  const expected = baselineCpuXml(
    {
      xml: hostModelFile(hosts.map((h) => h.cpu)),
      fileName: 'domCaps.xml',
      hypervisor: true,
      models,
      features: false,
      migratable: false,
    },
    map,
  );
  assert.equal(baselineXml(first), expected);
  assert.match(expected, /<model fallback='forbid'>Nehalem<\/model>/);
  assert.match(expected, /<vendor>Intel<\/vendor>/);
});

test('hosts of two vendors: a candidate of each vendor, the most common vendor first', () => {
  const hosts = [
    { host: 'h1', cpu: hostCpu() },
    { host: 'h2', cpu: hostCpu('Nehalem') },
    { host: 'h3', cpu: hostCpu('Westmere') },
  ];
  assert.equal(hosts[0]?.cpu.vendor, 'AMD');
  const candidates = baselineCandidates(hosts, map, models);
  assert.deepEqual(
    candidates.map((c) => map.modelByName.get(c.model)?.vendor?.name),
    ['Intel', 'AMD'],
  );
  assert.equal(candidates[0]?.model, 'Nehalem');
  // Libvirt names no vendor for CPUs of different vendors; the model implies one.
  assert.equal(candidates[0].vendor, undefined);
});

test("the matrix says which host cannot run which host's host-model CPU, and what it lacks", () => {
  const hosts = [
    { host: 'wm', cpu: hostCpu('Westmere') },
    { host: 'nh', cpu: hostCpu('Nehalem') },
  ];
  assert.deepEqual(hostMatrix(hosts, map), [
    { from: 'wm', to: 'nh', ok: false, missing: ['aes'] },
    { from: 'nh', to: 'wm', ok: true, missing: [] },
  ]);
});
