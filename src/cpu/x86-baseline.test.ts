/**
 * The baseline engine against two references: the chapter's worked example (RHEL 8, 10.7),
 * which must come out exactly, and libvirt 9 itself (`virsh -c test:///default cpu-baseline`,
 * Debian's libvirt-clients, no daemon), which must agree for every model pair tried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baselineCpuXml } from './baseline-xml.js';
import { x86CpuMap } from './cpu-map.js';

const map = x86CpuMap();
const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** The chapter's `virsh hypervisor-cpu-baseline domCaps-CPUs.xml` answer, as printed there. */
const CHAPTER_ANSWER =
  "<cpu mode='custom' match='exact'> <model fallback='forbid'>IvyBridge-IBRS</model> <vendor>Intel</vendor> <feature policy='require' name='ss'/> <feature policy='require' name='vmx'/> <feature policy='require' name='pdcm'/> <feature policy='require' name='pcid'/> <feature policy='require' name='hypervisor'/> <feature policy='require' name='arat'/> <feature policy='require' name='tsc_adjust'/> <feature policy='require' name='umip'/> <feature policy='require' name='md-clear'/> <feature policy='require' name='stibp'/> <feature policy='require' name='arch-capabilities'/> <feature policy='require' name='ssbd'/> <feature policy='require' name='xsaveopt'/> <feature policy='require' name='pdpe1gb'/> <feature policy='require' name='invtsc'/> <feature policy='require' name='ibpb'/> <feature policy='require' name='amd-ssbd'/> <feature policy='require' name='skip-l1dfl-vmentry'/> <feature policy='require' name='pschange-mc-no'/> </cpu>";

test("the chapter's two host-model CPUs baseline to exactly the chapter's answer", () => {
  // The chapter's hosts run KVM on Intel CPUs that can run every model named here: no blockers.
  const out = baselineCpuXml(
    {
      xml: fixture('chapter-10.7-domCaps-CPUs.xml'),
      fileName: 'domCaps-CPUs.xml',
      hypervisor: true,
      features: false,
      migratable: false,
    },
    map,
  );
  // The chapter's text lost its line breaks; compare with them folded to single spaces.
  assert.equal(out.replace(/\n\s*/g, ' ').trim(), CHAPTER_ANSWER);
});

function virshBaseline(dir: string, text: string, flags: string[]): string {
  const file = join(dir, 'cpus.xml');
  writeFileSync(file, text);
  try {
    return execFileSync('virsh', ['-c', 'test:///default', 'cpu-baseline', ...flags, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
  } catch (err) {
    // virsh: "error: operation failed: CPU vendors do not match" → the meaning alone.
    const said = String((err as { stderr: Buffer }).stderr).trim();
    return `error: ${said.replace(/^error: (operation failed|internal error): /, '')}`;
  }
}

function ferryBaseline(text: string, features: boolean): string {
  try {
    const xml = baselineCpuXml(
      { xml: text, fileName: 'cpus.xml', hypervisor: false, features, migratable: false },
      map,
    );
    return `${xml}\n`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

const cpu = (model: string, extra = ''): string =>
  `<cpu><arch>x86_64</arch><model>${model}</model>${extra}</cpu>\n`;
const intel = '<vendor>Intel</vendor>';
const amd = '<vendor>AMD</vendor>';

test('cpu-baseline agrees with libvirt 9 (virsh test driver) on named pairs and a spread of others', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cpu-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: { name: string; text: string }[] = [
    {
      name: 'Skylake-Client-IBRS+IvyBridge-IBRS',
      text: cpu('Skylake-Client-IBRS', intel) + cpu('IvyBridge-IBRS', intel),
    },
    { name: 'Haswell+Broadwell', text: cpu('Haswell', intel) + cpu('Broadwell', intel) },
    { name: 'Westmere+Nehalem', text: cpu('Westmere') + cpu('Nehalem') },
    { name: 'EPYC+Opteron_G3', text: cpu('EPYC', amd) + cpu('Opteron_G3', amd) },
    { name: 'Intel+AMD', text: cpu('Skylake-Client', intel) + cpu('EPYC', amd) },
    { name: 'model vendor clash', text: cpu('Westmere', intel) + cpu('EPYC', intel) },
    { name: 'Nehalem+EPYC(AMD)', text: cpu('Nehalem') + cpu('EPYC', amd) },
    { name: 'same model', text: cpu('EPYC') + cpu('EPYC') },
    {
      name: 'features and policies',
      text:
        cpu('Skylake-Client-IBRS', `${intel}<feature name='vmx'/><feature name='ssbd'/>`) +
        cpu('Haswell-noTSX', `${intel}<feature name='vmx'/><feature name='spec-ctrl'/>`),
    },
    { name: 'unknown model', text: cpu('NoSuchCPU') + cpu('Nehalem') },
    { name: 'unknown feature', text: cpu('Nehalem', "<feature name='bogus'/>") },
  ];
  const names = map.models.map((m) => m.name);
  // Every 7th pair of the whole map, half with vendors: covers signatures, removed features,
  // ties and the disabled-feature penalty.
  for (let i = 0; i < names.length; i++) {
    for (let j = i % 7; j < names.length; j += 7) {
      const a = map.modelByName.get(names[i] ?? '');
      const b = map.modelByName.get(names[j] ?? '');
      if (a === undefined || b === undefined) continue;
      const v = (m: typeof a): string =>
        (i + j) % 2 === 0 && m.vendor !== undefined ? `<vendor>${m.vendor.name}</vendor>` : '';
      cases.push({ name: `${a.name}+${b.name}`, text: cpu(a.name, v(a)) + cpu(b.name, v(b)) });
    }
  }
  let compared = 0;
  for (const [k, c] of cases.entries()) {
    const features = k % 4 === 0;
    const want = virshBaseline(dir, c.text, features ? ['--features'] : []);
    assert.equal(
      ferryBaseline(c.text, features),
      want,
      `${c.name}${features ? ' --features' : ''}`,
    );
    compared++;
  }
  assert.ok(compared > 400, `compared ${compared} cases`);
});

test('--migratable drops features that block migration; bad input names the problem', () => {
  const text =
    cpu('Westmere', `${intel}<feature name='invtsc'/><feature name='vmx'/>`) +
    cpu('Westmere', `${intel}<feature name='invtsc'/><feature name='vmx'/>`);
  const run = (migratable: boolean): string =>
    baselineCpuXml(
      { xml: text, fileName: 'f', hypervisor: true, features: false, migratable },
      map,
    );
  assert.match(run(false), /name='vmx'\/>\n {2}<feature policy='require' name='invtsc'\/>/);
  assert.doesNotMatch(run(true), /invtsc/);
  assert.match(
    run(true),
    /<model fallback='forbid'>Westmere<\/model>\n {2}<vendor>Intel<\/vendor>\n {2}<feature policy='require' name='vmx'\/>/,
  );
  const bad = (xml: string): string => {
    try {
      return baselineCpuXml(
        { xml, fileName: 'f.xml', hypervisor: true, features: false, migratable: false },
        map,
      );
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.match(bad('<foo/>'), /^File 'f\.xml' does not contain any <cpu> element/);
  assert.match(bad('<cpu><model>X</model'), /^XML error/);
  assert.equal(
    bad("<cpu><model>Nehalem</model><feature policy='sometimes' name='aes'/></cpu>"),
    "XML error: invalid CPU feature policy 'sometimes'",
  );
});
