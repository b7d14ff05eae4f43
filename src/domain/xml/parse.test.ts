import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../../common/errors.js';
import type { ErrorCode } from '../../common/errors.js';
import { formatDomainXml, parseDomainXml } from './index.js';
import type { ParseOptions } from './index.js';

const UUID = '3e3fce45-4f53-4fa7-bb32-11f34168b82b';

function macs(): () => string {
  let n = 0;
  return () => `52:54:00:00:00:${(++n).toString(16).padStart(2, '0')}`;
}

function opts(): ParseOptions {
  return { generateUuid: () => UUID, generateMac: macs() };
}

/** A domain with `inner` inside <domain> after the name and memory. */
function domain(inner: string, attrs = "type='qemu'"): string {
  return `<domain ${attrs}>\n  <name>t</name>\n  <memory>1024</memory>\n${inner}\n</domain>\n`;
}

function parse(xml: string): ReturnType<typeof parseDomainXml> {
  return parseDomainXml(xml, opts());
}

function rejects(xml: string, code: ErrorCode, ...words: string[]): FerryError {
  let caught: unknown;
  try {
    parse(xml);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof FerryError, `expected a FerryError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const word of words) assert.ok(caught.message.includes(word), caught.message);
  assert.ok(!caught.message.includes('\n'), 'messages are one line');
  return caught;
}

test('parseDomainXml() fills libvirt defaults for a minimal domain', () => {
  const { def, warnings } = parse(
    "<domain type='kvm'><name>m</name><memory>1024</memory></domain>",
  );
  assert.deepEqual(warnings, []);
  assert.equal(def.type, 'kvm');
  assert.equal(def.uuid, UUID);
  assert.equal(def.memoryKiB, 1024);
  assert.equal(def.currentMemoryKiB, 1024);
  assert.equal(def.vcpus, 1);
  assert.deepEqual(def.os, { type: 'hvm', arch: 'x86_64', boot: ['hd'], extra: [] });
  assert.deepEqual(def.clock, { offset: 'utc', extra: [] });
  assert.deepEqual([def.onPoweroff, def.onReboot, def.onCrash], ['destroy', 'restart', 'destroy']);
  assert.deepEqual(def.features, []);
  assert.equal(def.cpu, undefined);
  assert.equal(def.namespaces, undefined);
  assert.equal(def.unmodelled, undefined);
});

test('parseDomainXml() generates a random UUID by default and normalises given ones', () => {
  const xml = "<domain type='qemu'><name>m</name><memory>1</memory></domain>";
  const a = parseDomainXml(xml).def.uuid;
  const b = parseDomainXml(xml).def.uuid;
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.notEqual(a, b);
  const bare = parse(domain('<uuid> 3E3FCE454F534FA7BB3211F34168B82B </uuid>')).def.uuid;
  assert.equal(bare, UUID);
  rejects(domain('<uuid>not-a-uuid</uuid>'), 'XML_ERROR', 'Invalid <uuid>', 'not-a-uuid');
});

test('parseDomainXml() converts memory units as libvirt does', () => {
  const cases: [string, string, number][] = [
    ['', '2048', 2048],
    ["unit='b'", '1', 1],
    ["unit='bytes'", '1025', 2],
    ["unit='KB'", '1024', 1000],
    ["unit='k'", '7', 7],
    ["unit='KiB'", '7', 7],
    ["unit='MB'", '1', 977],
    ["unit='M'", '1', 1024],
    ["unit='MiB'", '512', 524288],
    ["unit='GB'", '1', 976563],
    ["unit='G'", '2', 2097152],
    ["unit='GiB'", '1', 1048576],
    ["unit='TB'", '1', 976562500],
    ["unit='T'", '1', 1073741824],
    ["unit='TiB'", '1', 1073741824],
    ["unit='mib'", '1', 1024],
  ];
  for (const [unit, value, kib] of cases) {
    const xml = `<domain type='qemu'><name>u</name><memory ${unit}>${value}</memory></domain>`;
    assert.equal(parse(xml).def.memoryKiB, kib, `${value} ${unit}`);
  }
  const cur = parse(domain("<currentMemory unit='MiB'>1</currentMemory>")).def;
  assert.equal(cur.currentMemoryKiB, 1024);
});

test('parseDomainXml() reads every modelled element', () => {
  const { def, warnings } = parse(
    domain(`
  <title>T</title><description>D</description><vcpu placement='static'>2</vcpu>
  <os><type arch='i686' machine='q35'>hvm</type><kernel>/k</kernel><initrd>/i</initrd>
    <cmdline>console=ttyS0</cmdline><boot dev='cdrom'/><boot dev='network'/></os>
  <features><acpi/><hyperv mode='custom'><relaxed state='on'/></hyperv></features>
  <cpu><model>qemu64</model><vendor>AMD</vendor><topology sockets='1' cores='2' threads='1'/>
    <feature name='svm'/><feature policy='forbid' name='x2apic'/></cpu>
  <clock offset='localtime'/>
  <on_poweroff>preserve</on_poweroff><on_reboot>destroy</on_reboot><on_crash>coredump-destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='block' device='disk'><driver name='qemu' type='qcow2' cache='none' io='threads'/>
      <source dev='/dev/sdz'/><target dev='sda'/><readonly/><shareable/></disk>
    <disk device='cdrom'><target dev='hdc'/></disk>
    <interface type='bridge'><mac address='52:54:00:AA:BB:0C'/><source bridge='br0'/><model type='e1000'/></interface>
    <interface type='user'/>
    <serial type='unix'><source mode='bind' path='/s.sock'/><target type='isa-serial' port='1'/></serial>
    <console type='file'><source path='/c.log' append='on'/><target type='serial' port='0'/></console>
    <graphics type='vnc' port='5905' autoport='no' listen='::1'/>
    <graphics type='none'/>
    <hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/></source></hostdev>
  </devices>`),
  );
  assert.deepEqual(warnings, []);
  assert.equal(def.title, 'T');
  assert.equal(def.description, 'D');
  assert.equal(def.vcpus, 2);
  assert.deepEqual(def.os, {
    type: 'hvm',
    arch: 'i686',
    machine: 'q35',
    kernel: '/k',
    initrd: '/i',
    cmdline: 'console=ttyS0',
    boot: ['cdrom', 'network'],
    extra: [],
  });
  assert.deepEqual(def.features, [
    { name: 'acpi', attrs: {}, extra: [] },
    { name: 'hyperv', attrs: { mode: 'custom' }, extra: ["<relaxed state='on'/>"] },
  ]);
  assert.deepEqual(def.cpu, {
    mode: 'custom',
    match: 'exact',
    model: { name: 'qemu64', fallback: 'allow' },
    vendor: 'AMD',
    topology: { sockets: 1, dies: 1, cores: 2, threads: 1 },
    features: [
      { policy: 'require', name: 'svm' },
      { policy: 'forbid', name: 'x2apic' },
    ],
    extra: [],
  });
  assert.equal(def.clock?.offset, 'localtime');
  assert.deepEqual(
    [def.onPoweroff, def.onReboot, def.onCrash],
    ['preserve', 'destroy', 'coredump-destroy'],
  );
  const dev = def.devices;
  assert.equal(dev.emulator, '/usr/bin/qemu-system-x86_64');
  assert.deepEqual(dev.disks[0], {
    type: 'block',
    device: 'disk',
    driver: { name: 'qemu', type: 'qcow2', cache: 'none', io: 'threads' },
    source: '/dev/sdz',
    target: { dev: 'sda', bus: 'sata' },
    readonly: true,
    shareable: true,
    extra: [],
  });
  assert.deepEqual(dev.disks[1], {
    type: 'file',
    device: 'cdrom',
    driver: { name: 'qemu', type: 'raw' },
    target: { dev: 'hdc', bus: 'ide' },
    readonly: false,
    shareable: false,
    extra: [],
  });
  assert.deepEqual(dev.interfaces, [
    { type: 'bridge', mac: '52:54:00:aa:bb:0c', source: 'br0', model: 'e1000', extra: [] },
    { type: 'user', mac: '52:54:00:00:00:01', extra: [] },
  ]);
  assert.deepEqual(dev.serials, [
    {
      type: 'unix',
      path: '/s.sock',
      mode: 'bind',
      targetType: 'isa-serial',
      targetPort: 1,
      extra: [],
    },
  ]);
  assert.deepEqual(dev.consoles, [
    { type: 'file', path: '/c.log', append: true, targetType: 'serial', targetPort: 0, extra: [] },
  ]);
  assert.deepEqual(dev.graphics, [
    { type: 'vnc', port: 5905, autoport: false, listen: '::1', extra: [] },
    { type: 'none', extra: [] },
  ]);
  assert.deepEqual(dev.hostdevs, [
    {
      raw: "<hostdev mode='subsystem' type='usb'>\n  <source>\n    <vendor id='0x1234'/>\n  </source>\n</hostdev>",
    },
  ]);
});

test('parseDomainXml() infers the disk bus from the target name', () => {
  const disk = (dev: string): string =>
    domain(`<devices><disk type='file'><source file='/d'/><target dev='${dev}'/></disk></devices>`);
  assert.equal(parse(disk('vdb')).def.devices.disks[0]?.target.bus, 'virtio');
  assert.equal(parse(disk('sdb')).def.devices.disks[0]?.target.bus, 'sata');
  assert.equal(parse(disk('hdb')).def.devices.disks[0]?.target.bus, 'ide');
  rejects(disk('xvda'), 'XML_ERROR', 'xvda', 'bus');
});

test('parseDomainXml() generates distinct 52:54:00 MACs for interfaces without one', () => {
  const xml = domain(
    "<devices><interface type='user'/><interface type='user'/><interface type='user'><mac address='52:54:00:00:00:01'/></interface></devices>",
  );
  const fixed = parse(xml).def.devices.interfaces.map((n) => n.mac);
  assert.deepEqual(fixed, ['52:54:00:00:00:02', '52:54:00:00:00:03', '52:54:00:00:00:01']);
  const random = parseDomainXml(xml).def.devices.interfaces.map((n) => n.mac ?? '');
  for (const mac of random) assert.match(mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
  assert.equal(new Set(random).size, 3);
});

test('parseDomainXml() keeps <qemu:commandline> in order', () => {
  const ns = 'http://libvirt.org/schemas/domain/qemu/1.0';
  const { def, warnings } = parse(
    domain(
      "<qemu:commandline><qemu:arg value='-a'/><qemu:arg value='-b'/></qemu:commandline><metadata/>",
      `type='kvm' xmlns:qemu='${ns}'`,
    ),
  );
  assert.deepEqual(def.namespaces, { qemu: ns });
  assert.deepEqual(def.extra, [
    "<qemu:commandline>\n  <qemu:arg value='-a'/>\n  <qemu:arg value='-b'/>\n</qemu:commandline>",
    '<metadata/>',
  ]);
  assert.deepEqual(warnings, ['unknown element <qemu:commandline> in <domain> kept verbatim']);
});

test('parseDomainXml() keeps unknown elements in their nearest modelled parent', () => {
  const { def, warnings } = parse(
    domain(`<devices>
    <disk type='file'><source file='/d'><seclabel relabel='no'/></source><target dev='vda'/>
      <address type='pci' slot='0x04'/><boot order='1'/></disk>
    <memballoon model='none'/><watchdog model='i6300esb'/>
    <interface type='network'><source network='default'/><target dev='vnet0'/><link state='up'/></interface>
    <graphics type='vnc'><listen type='address' address='0.0.0.0'/></graphics>
  </devices>
  <os><type>hvm</type><loader>/ovmf</loader></os>
  <cpu mode='host-model'><numa/></cpu>
  <clock offset='utc'><timer name='rtc'/></clock>
  <on_lockfailure>poweroff</on_lockfailure>`),
  );
  const disk = def.devices.disks[0];
  assert.deepEqual(disk?.extra, ["<address type='pci' slot='0x04'/>", "<boot order='1'/>"]);
  assert.deepEqual(disk.unmodelled, {
    source: { attrs: {}, children: ["<seclabel relabel='no'/>"] },
  });
  assert.deepEqual(def.devices.extra, [
    "<memballoon model='none'/>",
    "<watchdog model='i6300esb'/>",
  ]);
  assert.deepEqual(def.devices.interfaces[0]?.extra, [
    "<target dev='vnet0'/>",
    "<link state='up'/>",
  ]);
  assert.equal(def.devices.graphics[0]?.listen, '0.0.0.0');
  assert.deepEqual(def.os.extra, ['<loader>/ovmf</loader>']);
  assert.deepEqual(def.cpu?.extra, ['<numa/>']);
  assert.deepEqual(def.clock?.extra, ["<timer name='rtc'/>"]);
  assert.deepEqual(def.extra, ['<on_lockfailure>poweroff</on_lockfailure>']);
  assert.deepEqual(warnings, [
    'unknown element <seclabel> in <source> kept verbatim',
    'unknown element <boot> in <disk> kept verbatim',
    'unknown element <watchdog> in <devices> kept verbatim',
    'unknown element <link> in <interface> kept verbatim',
    'unknown element <loader> in <os> kept verbatim',
    'unknown element <numa> in <cpu> kept verbatim',
    'unknown element <on_lockfailure> in <domain> kept verbatim',
  ]);
});

test('parseDomainXml() keeps unknown attributes and warns about each', () => {
  const { def, warnings } = parse(
    domain(
      "<vcpu placement='auto' current='1'>2</vcpu><devices><disk type='file'><driver name='qemu' type='raw' discard='unmap'/><source file='/d'/><target dev='vda'/></disk></devices>",
      "type='qemu' id='3' foo='bar'",
    ),
  );
  assert.deepEqual(def.unmodelled, {
    '': { attrs: { foo: 'bar' }, children: [] },
    vcpu: { attrs: { placement: 'auto', current: '1' }, children: [] },
  });
  assert.deepEqual(def.devices.disks[0]?.unmodelled, {
    driver: { attrs: { discard: 'unmap' }, children: [] },
  });
  assert.deepEqual(warnings, [
    "unknown attribute 'foo' on <domain> kept verbatim",
    "unknown attribute 'placement' on <vcpu> kept verbatim",
    "unknown attribute 'current' on <vcpu> kept verbatim",
    "unknown attribute 'discard' on <driver> kept verbatim",
  ]);
});

test('parseDomainXml() gives verbatim fragments the namespaces they inherit', () => {
  const { def } = parse(
    domain(
      "<devices xmlns:x='urn:x'><x:thing a='1'><x:sub/></x:thing></devices><metadata><y:m xmlns:y='urn:y'/></metadata><q:extra/>",
      "type='qemu' xmlns:q='urn:q'",
    ),
  );
  assert.deepEqual(def.devices.extra, ["<x:thing a='1' xmlns:x='urn:x'>\n  <x:sub/>\n</x:thing>"]);
  assert.deepEqual(def.extra, ["<metadata>\n  <y:m xmlns:y='urn:y'/>\n</metadata>", '<q:extra/>']);
  assert.equal(def.unmodelled, undefined, 'xmlns declarations are not unknown attributes');
  const dflt = parse(domain('<metadata><a/></metadata>', "type='qemu' xmlns='urn:d'")).def;
  assert.deepEqual(dflt.namespaces, { '': 'urn:d' });
  assert.deepEqual(dflt.extra, ['<metadata>\n  <a/>\n</metadata>']);
});

test('parseDomainXml() ignores comments and the XML declaration', () => {
  const { def, warnings } = parse(
    "<?xml version='1.0' encoding='UTF-8'?>\n<!-- top -->\n<domain type='qemu'><!-- c --><name>c<!-- x -->d</name><memory>1</memory></domain>",
  );
  assert.equal(def.name, 'cd');
  assert.deepEqual(def.extra, []);
  assert.deepEqual(warnings, []);
});

test('parseDomainXml() reads <panic>: model isa by default, its port from the ISA address', () => {
  const bare = parse(domain('<devices><panic/></devices>')).def;
  assert.deepEqual(bare.devices.panics, [{ model: 'isa', extra: [] }]);
  const xml = "<devices><panic model='isa'><address type='isa' iobase='1286'/></panic></devices>";
  const { def, warnings } = parse(domain(xml));
  assert.deepEqual(def.devices.panics, [{ model: 'isa', iobase: 0x506, extra: [] }]);
  assert.deepEqual(warnings, []);
  assert.ok(formatDomainXml(def).includes("<address type='isa' iobase='0x506'/>"));
});

test("parseDomainXml() reads Ferry's <ferry:watch> metadata and keeps <metadata> verbatim", () => {
  const meta = (attrs: string): string =>
    `<metadata><app:x xmlns:app='urn:app'/><f:watch xmlns:f='urn:ferry:domain:1.0'${attrs}/></metadata>`;
  const off = parse(domain(meta(" pvpanic='off'"))).def;
  assert.deepEqual(off.ferry, { pvpanic: false });
  assert.equal(off.extra.length, 1);
  assert.ok(off.extra[0]?.includes("<f:watch xmlns:f='urn:ferry:domain:1.0' pvpanic='off'/>"));
  assert.deepEqual(parse(domain(meta(" pvpanic='on'"))).def.ferry, { pvpanic: true });
  assert.deepEqual(parse(domain(meta(''))).def.ferry, { pvpanic: true });
  assert.equal(parse(domain('<metadata><n:x xmlns:n="urn:n"/></metadata>')).def.ferry, undefined);
});
