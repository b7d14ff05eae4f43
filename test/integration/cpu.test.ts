/**
 * The CPU commands against a real ferryd and this host's QEMU: capabilities, domcapabilities
 * (its <cpu> must be libvirt 9's for the same QEMU, byte for byte), hypervisor-cpu-baseline
 * (libvirt's answer for the same input), hypervisor-cpu-compare, bad input, and a host with
 * cpu_limit: its domcapabilities, its compare verdicts and a guest it refuses to start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { guestXml } from '../helpers/guest.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../src/cpu/fixtures/${name}`, import.meta.url), 'utf8');

/** The lines from `  <cpu>` to `  </cpu>` of a domcapabilities document. */
function cpuPart(xml: string): string {
  const start = xml.indexOf('\n  <cpu>\n');
  const end = xml.indexOf('\n  </cpu>\n');
  return `${xml.slice(start + 1, end + '\n  </cpu>'.length)}\n`;
}

async function refused(d: TestDaemon, pattern: RegExp, ...args: string[]): Promise<void> {
  const r = await d.ferry(...args);
  assert.equal(r.code, 1, `ferry ${args.join(' ')} should fail: ${r.stdout}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

test('capabilities, domcapabilities and hypervisor-cpu-baseline answer as libvirt 9 does', async (t) => {
  const d = await startDaemon(t);
  const caps = await d.ferryOk('capabilities');
  assert.match(
    caps,
    /<host>\n {4}<uuid>[0-9a-f-]{36}<\/uuid>\n {4}<cpu>\n {6}<arch>x86_64<\/arch>\n {6}<model>[^<]+<\/model>\n {6}<vendor>(AMD|Intel)<\/vendor>\n {6}<topology sockets='\d+' dies='1' cores='\d+' threads='\d+'\/>/,
  );
  assert.match(
    caps,
    /<topology>\n {6}<cells num='\d+'>\n {8}<cell id='0'>\n {10}<memory unit='KiB'>\d+<\/memory>/,
  );
  assert.match(caps, /<machine canonical='pc-i440fx-7\.2' maxCpus='255'>pc<\/machine>/);
  assert.match(caps, /<domain type='qemu'\/>/);

  const domcaps = await d.ferryOk('domcapabilities', '--virttype', 'qemu');
  assert.match(
    domcaps,
    /^<domainCapabilities>\n {2}<path>\/.*qemu-system-x86_64<\/path>\n {2}<domain>qemu<\/domain>\n {2}<machine>pc-i440fx-7\.2<\/machine>\n {2}<arch>x86_64<\/arch>/,
  );
  assert.equal(cpuPart(domcaps), fixture('libvirt-9.0-domcapabilities-qemu-cpu.xml'));
  assert.match(
    await d.ferryOk('domcapabilities', '--machine', 'q35'),
    /<machine>pc-q35-7\.2<\/machine>/,
  );

  const cpus = d.file('cpus.xml', fixture('libvirt-9.0-cpus.xml'));
  assert.equal(
    await d.ferryOk('hypervisor-cpu-baseline', '--virttype', 'qemu', cpus),
    `${fixture('libvirt-9.0-hypervisor-cpu-baseline-qemu.xml')}\n`,
  );
  const expanded = await d.ferryOk('hypervisor-cpu-baseline', '--features', cpus);
  assert.match(
    expanded,
    /<feature policy='require' name='avx2'\/>\n {2}<feature policy='require' name='bmi1'\/>/,
  );
  assert.equal(
    await d.ferryOk('cpu-baseline', cpus),
    "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Haswell-noTSX-IBRS</model>\n  <vendor>Intel</vendor>\n  <feature policy='require' name='vmx'/>\n</cpu>\n\n",
  );

  // hypervisor-cpu-compare: virsh's sentences and exit status.
  const incompatible = await d.ferry('hypervisor-cpu-compare', '--virttype', 'qemu', cpus);
  assert.equal(incompatible.code, 1);
  assert.equal(
    incompatible.stdout,
    `CPU described in ${cpus} is incompatible with the CPU provided by hypervisor on the host\n\n`,
  );
  const small = d.file('small.xml', '<cpu><model>qemu64</model></cpu>\n');
  assert.equal(
    await d.ferryOk('hypervisor-cpu-compare', small),
    `The CPU provided by hypervisor on the host is a superset of CPU described in ${small}\n\n`,
  );
  const hostModel = domcaps.slice(
    domcaps.indexOf("<mode name='host-model'"),
    domcaps.indexOf("<mode name='custom'"),
  );
  const same = d.file('same.xml', hostModel);
  assert.equal(
    await d.ferryOk('hypervisor-cpu-compare', same),
    `CPU described in ${same} is identical to the CPU provided by hypervisor on the host\n\n`,
  );

  // Bad input: one error line each.
  await refused(
    d,
    /^error: File '.*none\.xml' does not contain any <cpu> element/,
    'hypervisor-cpu-baseline',
    d.file('none.xml', '<foo/>'),
  );
  await refused(d, /^error: XML error: /, 'hypervisor-cpu-baseline', d.file('bad.xml', 'garbage<'));
  await refused(
    d,
    /^error: Unknown CPU model Pentium9$/m,
    'cpu-baseline',
    d.file('m.xml', '<cpu><model>Pentium9</model></cpu>'),
  );
  await refused(
    d,
    /^error: Unknown CPU feature bogus$/m,
    'cpu-baseline',
    d.file('f.xml', "<cpu><model>Nehalem</model><feature name='bogus'/></cpu>"),
  );
  await refused(
    d,
    /^error: CPU vendors do not match$/m,
    'hypervisor-cpu-baseline',
    d.file(
      'mix.xml',
      '<cpu><model>EPYC</model><vendor>AMD</vendor></cpu><cpu><model>Nehalem</model><vendor>Intel</vendor></cpu>',
    ),
  );
  await refused(
    d,
    /^error: Failed to read file '.*nofile\.xml'/,
    'cpu-baseline',
    join(d.dir, 'nofile.xml'),
  );
  await refused(d, /machine 'nosuch' is not supported/, 'domcapabilities', '--machine', 'nosuch');
});

test('a host with cpu_limit = "Nehalem" offers Nehalem and refuses more', async (t) => {
  const d = await startDaemon(t, { configText: 'cpu_limit = "Nehalem"\n' });
  const domcaps = await d.ferryOk('domcapabilities', '--virttype', 'qemu');
  assert.match(
    domcaps,
    /<mode name='host-model' supported='yes'>\n {6}<model fallback='forbid'>Nehalem<\/model>\n {6}<vendor>Intel<\/vendor>\n {4}<\/mode>/,
  );
  assert.match(domcaps, /<model usable='yes' vendor='Intel'>Nehalem<\/model>/);
  assert.match(domcaps, /<model usable='no' vendor='Intel'>Westmere<\/model>/);
  assert.match(domcaps, /<model usable='yes' vendor='Intel'>Penryn<\/model>/);

  const westmere = d.file('westmere.xml', '<cpu><model>Westmere</model></cpu>');
  const r = await d.ferry('hypervisor-cpu-compare', '--error', westmere);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    'error: the CPU is incompatible with host CPU: Host CPU does not provide required features: aes\n',
  );
  const nehalem = d.file('nehalem.xml', '<cpu><model>Nehalem</model></cpu>');
  assert.match(
    await d.ferryOk('hypervisor-cpu-compare', nehalem),
    /is identical to the CPU provided by hypervisor/,
  );

  // A guest asking for more than the limit does not start, and nothing is left running.
  const serialLog = join(d.dir, 'w.log');
  const xml = d.file(
    'w-dom.xml',
    guestXml({
      name: 'w',
      serialLog,
      extraTop: "\n  <cpu mode='custom' match='exact'><model>Westmere</model></cpu>",
    }),
  );
  await d.ferryOk('define', xml);
  const start = await d.ferry('start', 'w');
  assert.equal(start.code, 1);
  assert.equal(
    start.stderr,
    "error: Failed to start domain 'w'\nerror: operation failed: guest CPU is not compatible with this host: host CPU lacks features guest CPU Westmere needs (aes)\n",
  );
  assert.match(await d.ferryOk('domstate', 'w'), /shut off/);
});

test('a cpu_limit naming an unknown model keeps ferryd from starting', async (t) => {
  await assert.rejects(
    startDaemon(t, { configText: 'cpu_limit = "Pentium9"\n' }),
    /unknown CPU model 'Pentium9'/,
  );
});
