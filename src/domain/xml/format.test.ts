import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DomainDef } from '../def.js';
import { formatDomainXml, parseDomainXml } from './index.js';
import type { ParseOptions } from './index.js';

const DATA = fileURLToPath(new URL('../../../test/data/domain-xml/', import.meta.url));
const SCHEMA = '/usr/share/libvirt/schemas/domain.rng';
/** Golden inputs: NAME.xml formats to NAME.out.xml. Set UPDATE_GOLDEN=1 to rewrite outputs. */
const GOLDEN = [
  'minimal',
  'full',
  'units',
  'libvirt-cap1',
  'extras',
  'panic',
  'pvpanic-off',
  'storage',
];

function opts(): ParseOptions {
  let n = 0;
  return {
    generateUuid: () => '00000000-0000-4000-8000-000000000001',
    generateMac: () => `52:54:00:00:00:${(++n).toString(16).padStart(2, '0')}`,
  };
}

function roundTrip(xml: string): string {
  return formatDomainXml(parseDomainXml(xml, opts()).def);
}

function hasXmllint(): boolean {
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'ignore' });
    return existsSync(SCHEMA);
  } catch {
    return false;
  }
}

function baseDef(): DomainDef {
  return {
    type: 'qemu',
    name: 'prog',
    uuid: '11111111-2222-4333-8444-555555555555',
    memoryKiB: 1024,
    currentMemoryKiB: 1024,
    vcpus: 1,
    os: { type: 'hvm', arch: 'x86_64', boot: [], extra: [] },
    features: [],
    onPoweroff: 'destroy',
    onReboot: 'restart',
    onCrash: 'destroy',
    devices: {
      disks: [],
      interfaces: [],
      serials: [],
      consoles: [],
      graphics: [],
      hostdevs: [],
      panics: [],
      extra: [],
    },
    extra: [],
  };
}

for (const name of GOLDEN) {
  test(`formatDomainXml() matches golden ${name}.out.xml`, () => {
    const input = readFileSync(`${DATA}${name}.xml`, 'utf8');
    const actual = roundTrip(input);
    const goldenPath = `${DATA}${name}.out.xml`;
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(goldenPath, actual);
    assert.equal(actual, readFileSync(goldenPath, 'utf8'));
  });

  test(`formatDomainXml() is stable over a second round trip of ${name}.xml`, () => {
    const once = roundTrip(readFileSync(`${DATA}${name}.xml`, 'utf8'));
    assert.equal(roundTrip(once), once);
    const { def } = parseDomainXml(once, opts());
    assert.deepEqual(parseDomainXml(formatDomainXml(def), opts()).def, def);
  });
}

test('formatDomainXml() output validates against libvirt domain.rng', (t) => {
  if (!hasXmllint()) {
    t.skip(`xmllint or ${SCHEMA} missing (apt-get install libxml2-utils libvirt0)`);
    return;
  }
  const files = GOLDEN.map((name) => `${DATA}${name}.out.xml`);
  execFileSync('xmllint', ['--noout', '--relaxng', SCHEMA, ...files], { stdio: 'pipe' });
});

test('formatDomainXml() warns only about the golden file with unknown elements', () => {
  for (const name of GOLDEN.filter((n) => n !== 'extras')) {
    const { warnings } = parseDomainXml(readFileSync(`${DATA}${name}.xml`, 'utf8'), opts());
    assert.deepEqual(warnings, [], name);
  }
});

test('formatDomainXml() keeps unknown elements of extras.xml in place', () => {
  const out = readFileSync(`${DATA}extras.out.xml`, 'utf8');
  const lines = out.split('\n');
  const indexOf = (text: string): number => lines.findIndex((l) => l.includes(text));
  assert.ok(lines[0]?.includes("xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"));
  assert.ok(indexOf('<qemu:commandline>') > indexOf('</devices>'));
  assert.ok(indexOf('<metadata>') < indexOf('<memory'));
  assert.ok(indexOf('<controller') > indexOf('</disk>'));
  assert.ok(indexOf('<memballoon') > indexOf('<hostdev'));
  assert.ok(out.includes("      <address type='pci' domain='0x0000' bus='0x04'"), 'indented');
  assert.ok(out.includes('first line\n  second line &lt;indented&gt;\n</ferry:notes>'));
  assert.ok(!out.includes(" id='7'"), 'the runtime id of the input is not kept');
});

test('formatDomainXml() writes the runtime id of a running domain', () => {
  const out = formatDomainXml(baseDef(), { id: 5 });
  assert.ok(out.startsWith("<domain type='qemu' id='5'>\n  <name>prog</name>\n"), out);
});

test('formatDomainXml() escapes text and attributes', () => {
  const def = baseDef();
  def.name = `a&b<c>'d"`;
  def.description = 'line\n\ttab & more';
  def.os.cmdline = `console=ttyS0 x='1'`;
  def.os.kernel = '/k';
  def.devices.disks.push({
    type: 'file',
    device: 'disk',
    driver: { name: 'qemu', type: 'raw' },
    source: `/img/it's "q" & <x>.img`,
    target: { dev: 'vda', bus: 'virtio' },
    readonly: false,
    shareable: false,
    extra: [],
  });
  const out = formatDomainXml(def);
  assert.ok(out.includes('<name>a&amp;b&lt;c&gt;&apos;d&quot;</name>'));
  assert.ok(out.includes('<description>line\n\ttab &amp; more</description>'));
  assert.ok(out.includes('<cmdline>console=ttyS0 x=&apos;1&apos;</cmdline>'));
  assert.ok(out.includes("<source file='/img/it&apos;s &quot;q&quot; &amp; &lt;x&gt;.img'/>"));
  const back = parseDomainXml(out).def;
  assert.equal(back.description, def.description);
  assert.equal(back.devices.disks[0]?.source, def.devices.disks[0]?.source);
});

test('formatDomainXml() keeps whitespace-only text exact', () => {
  const def = baseDef();
  def.description = '\n';
  def.title = '  ';
  const out = formatDomainXml(def);
  assert.ok(out.includes('<description>&#10;</description>'), out);
  const back = parseDomainXml(out).def;
  assert.equal(back.description, '\n');
  assert.equal(back.title, '  ');
  const again = formatDomainXml(back);
  assert.equal(formatDomainXml(parseDomainXml(again).def), again);
});

test('formatDomainXml() formats a definition built in code', () => {
  const def = baseDef();
  def.devices.graphics.push({ type: 'none', extra: [] });
  def.devices.serials.push({ type: 'pty', extra: [] });
  def.cpu = { mode: 'host-passthrough', migratable: 'off', features: [], extra: [] };
  const out = formatDomainXml(def);
  assert.ok(out.endsWith('</domain>\n'));
  assert.ok(out.includes("  <cpu mode='host-passthrough' migratable='off'/>\n"));
  assert.ok(out.includes("    <serial type='pty'/>\n"));
  assert.ok(out.includes("    <graphics type='none'/>\n"));
  assert.ok(out.includes("  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n"));
  assert.ok(!out.includes('<clock'), 'no clock unless the definition has one');
});

test('formatDomainXml() writes empty <devices> as libvirt does', () => {
  assert.ok(formatDomainXml(baseDef()).includes('  <devices>\n  </devices>\n'));
});

test('formatDomainXml() re-indents verbatim extras without touching their text', () => {
  const def = baseDef();
  def.devices.extra.push(
    "<rng model='virtio'>\n  <backend model='random'>/dev/urandom</backend>\n</rng>",
  );
  def.extra.push('<metadata>\n  <n:x xmlns:n="urn:n">a\n  b</n:x>\n</metadata>');
  const out = formatDomainXml(def);
  assert.ok(out.includes("    <rng model='virtio'>\n      <backend model='random'>"));
  assert.ok(out.includes('  <metadata>\n    <n:x xmlns:n="urn:n">a\n  b</n:x>\n  </metadata>\n'));
});
