/**
 * This host's CPU decoded from QEMU's `max` model (recorded from QEMU 7.2 under TCG here) must be
 * what libvirt 9 shows for the same QEMU, and the guest CPU check's verdicts: missing features
 * named, Intel ↔ AMD refused with the chapter's words, host-passthrough only between identical
 * hosts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CpuDef } from '../domain/def.js';
import type { QemuHostFacts } from '../qemu/probe.js';
import type { HostCpuModel } from '../rpc/schema/cpu.js';
import { x86CpuMap } from './cpu-map.js';
import { CROSS_VENDOR, checkGuestCpu } from './guest-check.js';
import { type CpuLimit, decodeHostModel, toHostCpuModel, validateCpuLimit } from './host-cpu.js';

const map = x86CpuMap();
const facts = JSON.parse(
  readFileSync(new URL('./fixtures/qemu-7.2-tcg-facts.json', import.meta.url), 'utf8'),
) as QemuHostFacts;
const hostModel = (limit?: CpuLimit): HostCpuModel =>
  toHostCpuModel(decodeHostModel(facts, map, limit));

/** `virsh domcapabilities --virttype qemu` host-model on this QEMU (libvirt 9.0, Debian 12). */
const LIBVIRT_HOST_MODEL = {
  model: 'EPYC',
  vendor: 'AMD',
  require:
    'acpi ss monitor hypervisor erms mpx pcommit clwb umip pku vaes la57 pks 3dnowext 3dnow npt vgif svme-addr-chk',
  disable: 'vme rdseed sha-ni xsavec fxsr_opt misalignsse 3dnowprefetch osvw topoext nrip-save',
};

test("QEMU's max CPU decodes to libvirt's host-model, feature for feature and in order", () => {
  const h = hostModel();
  assert.equal(h.model, LIBVIRT_HOST_MODEL.model);
  assert.equal(h.vendor, LIBVIRT_HOST_MODEL.vendor);
  const names = (p: string): string =>
    h.features
      .filter((f) => f.policy === p)
      .map((f) => f.name)
      .join(' ');
  assert.equal(names('require'), LIBVIRT_HOST_MODEL.require);
  assert.equal(names('disable'), LIBVIRT_HOST_MODEL.disable);
  assert.deepEqual(
    h.features.map((f) => f.policy),
    [
      ...h.features.filter((f) => f.policy === 'require'),
      ...h.features.filter((f) => f.policy === 'disable'),
    ].map((f) => f.policy),
    'required features first, as libvirt prints them',
  );
});

test('cpu_limit caps the host model and takes the model vendor', () => {
  const h = hostModel({ model: 'Nehalem', features: [] });
  assert.deepEqual(h, { arch: 'x86_64', vendor: 'Intel', model: 'Nehalem', features: [] });
  const w = hostModel({ model: 'Westmere', features: ['-aes'] });
  assert.equal(w.vendor, 'Intel');
  assert.ok(!w.features.some((f) => f.name === 'aes' && f.policy === 'require'));
  assert.throws(
    () => validateCpuLimit({ model: 'Pentium9', features: [] }, map),
    /unknown CPU model 'Pentium9'/,
  );
  assert.throws(
    () => validateCpuLimit({ model: 'Nehalem', features: ['aes'] }, map),
    /must start with \+ or -/,
  );
  assert.throws(
    () => validateCpuLimit({ model: 'Nehalem', features: ['+bogus'] }, map),
    /unknown CPU feature 'bogus'/,
  );
});

const custom = (model: string, features: CpuDef['features'] = []): CpuDef => ({
  mode: 'custom',
  model: { name: model },
  features,
  extra: [],
});
const known = new Set(facts.cpuDefinitions.map((d) => d.name));
const unlimited = hostModel();
const nehalemHost = hostModel({ model: 'Nehalem', features: [] });

function check(cpu: CpuDef | undefined, here: HostCpuModel, source: HostCpuModel, limited = true) {
  return checkGuestCpu(cpu, { map, here, source, knownModels: known, vendorBinds: limited });
}

test('a Westmere guest is refused by a Nehalem host, naming what Nehalem lacks', () => {
  const out = check(custom('Westmere'), nehalemHost, unlimited);
  assert.equal(out.verdict, 'fail');
  assert.deepEqual(out.missingFeatures, ['aes']);
  assert.match(out.reason, /destination CPU lacks features guest CPU Westmere needs \(aes\)/);
  assert.equal(check(custom('Nehalem'), nehalemHost, unlimited).verdict, 'pass');
  // A required extra feature counts too; a disabled one of the model does not.
  assert.deepEqual(
    check(custom('Nehalem', [{ name: 'avx2', policy: 'require' }]), nehalemHost, unlimited)
      .missingFeatures,
    ['avx2'],
  );
  assert.equal(
    check(custom('Westmere', [{ name: 'aes', policy: 'disable' }]), nehalemHost, unlimited).verdict,
    'pass',
  );
});

test('Intel ↔ AMD is refused with the chapter sentence', () => {
  const out = check(custom('Opteron_G2'), nehalemHost, unlimited);
  assert.equal(out.verdict, 'fail');
  assert.ok(out.reason.includes(CROSS_VENDOR), out.reason);
  assert.match(out.reason, /AMD differs from this host's Intel/);
  // Under TCG without a limit QEMU emulates either vendor: only features count.
  assert.equal(check(custom('Opteron_G2'), unlimited, unlimited, false).verdict, 'pass');
  // host-model guests carry the source host's vendor.
  const hm: CpuDef = { mode: 'host-model', features: [], extra: [] };
  assert.ok(check(hm, nehalemHost, unlimited).reason.includes(CROSS_VENDOR));
});

test('host-passthrough passes only between identical host CPUs, naming the differences', () => {
  const pt: CpuDef = { mode: 'host-passthrough', features: [], extra: [] };
  assert.equal(check(pt, unlimited, unlimited).verdict, 'pass');
  const westmereHost = hostModel({ model: 'Westmere', features: [] });
  const out = check(pt, nehalemHost, westmereHost);
  assert.equal(out.verdict, 'fail');
  assert.match(out.reason, /host-passthrough guest needs identical host CPUs: this host lacks aes/);
  assert.deepEqual(out.missingFeatures, ['aes']);
  const back = check(pt, westmereHost, nehalemHost);
  assert.match(back.reason, /this host adds aes/);
});

test("a guest without <cpu> is checked as QEMU's qemu64; unknown and unsupported models fail", () => {
  assert.equal(check(undefined, unlimited, unlimited).verdict, 'pass');
  const out = check(undefined, nehalemHost, unlimited);
  // qemu64 in cpu_map carries svm, which an Intel Nehalem host lacks.
  assert.deepEqual(out.missingFeatures, ['svm']);
  assert.match(
    check(custom('Pentium9'), unlimited, unlimited).reason,
    /unknown CPU model Pentium9/,
  );
  assert.match(
    check(custom('cpu64-rhel6'), unlimited, unlimited).reason,
    /not supported by hypervisor/,
  );
});
