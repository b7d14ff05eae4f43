/**
 * `virsh capabilities` and `virsh domcapabilities` documents, laid out as libvirt 9 lays them
 * out (element order, attribute order, two-space indent), from this host's facts.
 * @module
 */
import type { NumaTopology } from '../host/numa.js';
import type { QemuHostFacts } from '../qemu/probe.js';
import type { HostCpuModel } from '../rpc/schema/cpu.js';
import type { PhysicalCpu } from './host-cpu.js';

export interface CapabilitiesInput {
  hostUuid: string;
  physical: PhysicalCpu;
  topology: { sockets: number; cores: number; threads: number };
  numa: NumaTopology;
  facts: QemuHostFacts;
  kvm: boolean;
}

/** libvirt's maxCpus for a machine type (QEMU's own limit for i440fx / q35). */
function maxCpusOf(machine: string): number {
  return machine.includes('q35') ? 288 : 255;
}

export function formatCapabilitiesXml(c: CapabilitiesInput): string {
  const out: string[] = [
    '<capabilities>',
    '',
    '  <host>',
    `    <uuid>${c.hostUuid}</uuid>`,
    '    <cpu>',
  ];
  out.push('      <arch>x86_64</arch>', `      <model>${c.physical.decoded.model}</model>`);
  if (c.physical.decoded.vendor !== undefined)
    out.push(`      <vendor>${c.physical.decoded.vendor}</vendor>`);
  const t = c.topology;
  out.push(
    `      <topology sockets='${t.sockets}' dies='1' cores='${t.cores}' threads='${t.threads}'/>`,
  );
  for (const f of c.physical.decoded.features) out.push(`      <feature name='${f.name}'/>`);
  out.push('    </cpu>', '    <topology>', `      <cells num='${c.numa.cells.length}'>`);
  for (const cell of c.numa.cells) {
    out.push(
      `        <cell id='${cell.id}'>`,
      `          <memory unit='KiB'>${cell.memoryKiB}</memory>`,
    );
    out.push(`          <cpus num='${cell.cpus.length}'>`);
    for (const cpu of cell.cpus) out.push(`            <cpu id='${cpu}'/>`);
    out.push('          </cpus>', '        </cell>');
  }
  out.push(
    '      </cells>',
    '    </topology>',
    '  </host>',
    '',
    '  <guest>',
    '    <os_type>hvm</os_type>',
  );
  out.push(
    "    <arch name='x86_64'>",
    '      <wordsize>64</wordsize>',
    `      <emulator>${c.facts.binary}</emulator>`,
  );
  for (const m of c.facts.machines) {
    if (m.name === 'none') continue;
    out.push(
      `      <machine maxCpus='${maxCpusOf(m.name)}'${m.deprecated ? " deprecated='yes'" : ''}>${m.name}</machine>`,
    );
    if (m.alias !== undefined) {
      out.push(
        `      <machine canonical='${m.name}' maxCpus='${maxCpusOf(m.name)}'>${m.alias}</machine>`,
      );
    }
  }
  out.push("      <domain type='qemu'/>");
  if (c.kvm) out.push("      <domain type='kvm'/>");
  out.push('    </arch>', '  </guest>', '', '</capabilities>');
  return `${out.join('\n')}\n`;
}

export interface CustomModel {
  name: string;
  usable: boolean;
  vendor: string;
}

export interface DomCapabilitiesInput {
  facts: QemuHostFacts;
  virttype: 'qemu' | 'kvm';
  machine: string;
  hostModel: HostCpuModel;
  customModels: CustomModel[];
  kvm: boolean;
}

export function formatDomCapabilitiesXml(d: DomCapabilitiesInput): string {
  const out = [
    '<domainCapabilities>',
    `  <path>${d.facts.binary}</path>`,
    `  <domain>${d.virttype}</domain>`,
    `  <machine>${d.machine}</machine>`,
    '  <arch>x86_64</arch>',
    `  <vcpu max='${maxCpusOf(d.machine)}'/>`,
    "  <iothreads supported='yes'/>",
    "  <os supported='yes'>",
    "    <enum name='firmware'/>",
    '  </os>',
    '  <cpu>',
  ];
  if (d.virttype === 'kvm' && d.kvm) {
    out.push(
      "    <mode name='host-passthrough' supported='yes'>",
      "      <enum name='hostPassthroughMigratable'>",
      '        <value>on</value>',
      '        <value>off</value>',
      '      </enum>',
      '    </mode>',
    );
  } else out.push("    <mode name='host-passthrough' supported='no'/>");
  out.push(
    "    <mode name='maximum' supported='yes'>",
    "      <enum name='maximumMigratable'>",
    '        <value>on</value>',
    '        <value>off</value>',
    '      </enum>',
    '    </mode>',
    "    <mode name='host-model' supported='yes'>",
    `      <model fallback='forbid'>${d.hostModel.model}</model>`,
  );
  if (d.hostModel.vendor !== '') out.push(`      <vendor>${d.hostModel.vendor}</vendor>`);
  for (const f of d.hostModel.features)
    out.push(`      <feature policy='${f.policy}' name='${f.name}'/>`);
  out.push('    </mode>', "    <mode name='custom' supported='yes'>");
  for (const m of d.customModels) {
    out.push(
      `      <model usable='${m.usable ? 'yes' : 'no'}' vendor='${m.vendor}'>${m.name}</model>`,
    );
  }
  out.push('    </mode>', '  </cpu>', '</domainCapabilities>');
  return `${out.join('\n')}\n`;
}
