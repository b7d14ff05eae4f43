/**
 * Setting the baseline `<cpu>` in a definition's text changes that element and nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDomainXml } from '../domain/xml/index.js';
import { withCpu } from './cpu-xml-edit.js';

const BASELINE =
  "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>Nehalem</model>\n  <feature policy='require' name='x2apic'/>\n</cpu>\n";

const head =
  "<domain type='qemu'>\n  <name>g</name>\n  <!-- keep: <cpu mode='host-model'/> -->\n  <metadata>\n    <app:x xmlns:app='urn:x'><cpu>not this</cpu></app:x>\n  </metadata>\n  <memory unit='KiB'>131072</memory>\n  <vcpu placement='static'>2</vcpu>\n";
const tail =
  "  <clock offset='utc'/>\n  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n  </devices>\n</domain>\n";

test('the <cpu> is replaced in place; every other byte stays, comments and metadata included', () => {
  const xml = `${head}  <cpu mode='custom' match='exact' check='partial'>\n    <model fallback='allow'>Westmere</model>\n    <topology sockets='1' dies='1' cores='2' threads='1'/>\n    <feature policy='require' name='aes'/>\n  </cpu>\n${tail}`;
  const out = withCpu(xml, BASELINE);
  assert.equal(
    out,
    `${head}  <cpu mode='custom' match='exact' check='partial'>\n    <model fallback='forbid'>Nehalem</model>\n    <feature policy='require' name='x2apic'/>\n    <topology sockets="1" dies="1" cores="2" threads="1"/>\n  </cpu>\n${tail}`,
  );
  const { def } = parseDomainXml(out);
  assert.equal(def.cpu?.model?.name, 'Nehalem');
  assert.deepEqual(def.cpu.topology, { sockets: 1, dies: 1, cores: 2, threads: 1 });
  assert.deepEqual(
    def.cpu.features.map((f) => f.name),
    ['x2apic'],
  );
});

test('a self-closing <cpu> (host-model) is replaced', () => {
  const out = withCpu(`${head}  <cpu mode='host-model'/>\n${tail}`, BASELINE);
  assert.equal(
    out,
    `${head}  <cpu mode='custom' match='exact'>\n    <model fallback='forbid'>Nehalem</model>\n    <feature policy='require' name='x2apic'/>\n  </cpu>\n${tail}`,
  );
});

test('without a <cpu>, one is inserted before <clock>, indented as its siblings', () => {
  const out = withCpu(`${head}${tail}`, BASELINE);
  assert.equal(
    out,
    `${head}  <cpu mode='custom' match='exact'>\n    <model fallback='forbid'>Nehalem</model>\n    <feature policy='require' name='x2apic'/>\n  </cpu>\n${tail}`,
  );
});

test('without <cpu> or anything after it, it goes before </domain>', () => {
  const out = withCpu("<domain type='qemu'>\n  <name>g</name>\n</domain>\n", BASELINE);
  assert.equal(
    out,
    "<domain type='qemu'>\n  <name>g</name>\n  <cpu mode='custom' match='exact'>\n    <model fallback='forbid'>Nehalem</model>\n    <feature policy='require' name='x2apic'/>\n  </cpu>\n</domain>\n",
  );
});

test('two <cpu> elements are refused', () => {
  assert.throws(
    () =>
      withCpu(`${head}  <cpu mode='host-model'/>\n  <cpu mode='host-model'/>\n${tail}`, BASELINE),
    { code: 'XML_ERROR' },
  );
});
