import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../common/errors.js';
import type { ErrorCode } from '../common/errors.js';
import type { DiskDef, DomainDef, InterfaceDef } from './def.js';
import { MAX_MEMORY_KIB, validateDomainDef } from './validate.js';

function def(): DomainDef {
  return {
    type: 'kvm',
    name: 'web-01',
    uuid: '11111111-2222-4333-8444-555555555555',
    memoryKiB: 1048576,
    currentMemoryKiB: 524288,
    vcpus: 2,
    os: { type: 'hvm', arch: 'x86_64', boot: ['hd'], extra: [] },
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

function disk(dev: string, more: Partial<DiskDef> = {}): DiskDef {
  return {
    type: 'file',
    device: 'disk',
    driver: { name: 'qemu', type: 'qcow2' },
    source: `/img/${dev}.qcow2`,
    target: { dev, bus: 'virtio' },
    readonly: false,
    shareable: false,
    extra: [],
    ...more,
  };
}

function nic(mac: string): InterfaceDef {
  return { type: 'user', mac, extra: [] };
}

function rejects(d: DomainDef, code: ErrorCode, ...words: string[]): void {
  assert.throws(
    () => {
      validateDomainDef(d);
    },
    (err: unknown) => {
      assert.ok(err instanceof FerryError);
      assert.equal(err.code, code, err.message);
      for (const word of words) assert.ok(err.message.includes(word), err.message);
      assert.ok(!err.message.includes('\n'));
      return true;
    },
  );
}

function withChange(change: (d: DomainDef) => void): DomainDef {
  const d = def();
  change(d);
  return d;
}

test('validateDomainDef() accepts a sound definition', () => {
  const d = def();
  d.devices.disks.push(
    disk('vda'),
    disk('hdc', { device: 'cdrom', target: { dev: 'hdc', bus: 'ide' } }),
  );
  d.devices.interfaces.push(nic('52:54:00:00:00:01'), nic('52:54:00:00:00:02'));
  d.cpu = {
    mode: 'custom',
    topology: { sockets: 1, cores: 2, threads: 1 },
    features: [],
    extra: [],
  };
  d.name = 'Ubuntu 22.04 (test)';
  validateDomainDef(d);
});

test('validateDomainDef() checks the domain name', () => {
  rejects(
    withChange((d) => (d.name = '')),
    'XML_ERROR',
    'Domain name must not be empty',
  );
  rejects(
    withChange((d) => (d.name = '  ')),
    'XML_ERROR',
    'must not be empty',
  );
  rejects(
    withChange((d) => (d.name = 'a/b')),
    'XML_ERROR',
    "cannot contain '/'",
  );
  rejects(
    withChange((d) => (d.name = '.hidden')),
    'XML_ERROR',
    "cannot start with '.'",
  );
  rejects(
    withChange((d) => (d.name = 'x'.repeat(201))),
    'XML_ERROR',
    'too long',
    '201',
  );
  rejects(
    withChange((d) => (d.name = 'tab\there')),
    'XML_ERROR',
    'control characters',
  );
  rejects(
    withChange((d) => (d.name = ' padded')),
    'XML_ERROR',
    'leading or trailing',
  );
  validateDomainDef(withChange((d) => (d.name = 'x'.repeat(200))));
});

test('validateDomainDef() checks the UUID and title', () => {
  rejects(
    withChange((d) => (d.uuid = 'ABC')),
    'XML_ERROR',
    "Invalid UUID 'ABC'",
  );
  rejects(
    withChange((d) => (d.title = 'two\nlines')),
    'XML_ERROR',
    'title',
    'newlines',
  );
});

test('validateDomainDef() checks memory sizes', () => {
  rejects(
    withChange((d) => (d.memoryKiB = 0)),
    'XML_ERROR',
    'Memory size must be greater than zero',
  );
  rejects(
    withChange((d) => (d.memoryKiB = d.currentMemoryKiB = MAX_MEMORY_KIB + 1)),
    'CONFIG_UNSUPPORTED',
    'absurd',
    '16 TiB',
  );
  validateDomainDef(withChange((d) => (d.memoryKiB = d.currentMemoryKiB = MAX_MEMORY_KIB)));
  rejects(
    withChange((d) => (d.currentMemoryKiB = 0)),
    'XML_ERROR',
    'Current memory',
    'zero',
  );
  rejects(
    withChange((d) => (d.currentMemoryKiB = d.memoryKiB + 1)),
    'XML_ERROR',
    'Current memory 1048577 KiB exceeds maximum memory 1048576 KiB',
  );
});

test('validateDomainDef() checks the vCPU count and topology', () => {
  rejects(
    withChange((d) => (d.vcpus = 0)),
    'XML_ERROR',
    'vCPU count',
    '0',
  );
  rejects(
    withChange((d) => (d.vcpus = 256)),
    'CONFIG_UNSUPPORTED',
    '256',
    'maximum is 255',
  );
  validateDomainDef(withChange((d) => (d.vcpus = 255)));
  const topo = withChange((d) => {
    d.cpu = {
      mode: 'custom',
      topology: { sockets: 2, dies: 1, cores: 2, threads: 2 },
      features: [],
      extra: [],
    };
  });
  rejects(topo, 'XML_ERROR', 'topology gives 8 vCPUs', '<vcpu> is 2');
});

test('validateDomainDef() needs a kernel for an initrd or a command line', () => {
  rejects(
    withChange((d) => (d.os.initrd = '/i')),
    'XML_ERROR',
    'initrd',
    'no <kernel>',
  );
  rejects(
    withChange((d) => (d.os.cmdline = 'quiet')),
    'XML_ERROR',
    'command line',
    'no <kernel>',
  );
  validateDomainDef(
    withChange((d) => Object.assign(d.os, { kernel: '/k', initrd: '/i', cmdline: 'q' })),
  );
});

test('validateDomainDef() checks disks', () => {
  rejects(
    withChange((d) => d.devices.disks.push(disk('vda'), disk('vda'))),
    'XML_ERROR',
    "Duplicate disk target 'vda'",
  );
  rejects(
    withChange((d) => d.devices.disks.push(disk('vd a'))),
    'XML_ERROR',
    "Invalid disk target 'vd a'",
  );
  const noSource = disk('vdb');
  delete noSource.source;
  rejects(
    withChange((d) => d.devices.disks.push(noSource)),
    'XML_ERROR',
    "'vdb' has no source",
  );
  const emptyCdrom: DiskDef = { ...noSource, device: 'cdrom', target: { dev: 'sda', bus: 'sata' } };
  validateDomainDef(withChange((d) => d.devices.disks.push(emptyCdrom)));
  const virtioCdrom: DiskDef = { ...emptyCdrom, target: { dev: 'vdc', bus: 'virtio' } };
  rejects(
    withChange((d) => d.devices.disks.push(virtioCdrom)),
    'XML_ERROR',
    'cdrom',
    'virtio',
  );
});

test('validateDomainDef() checks interface MACs', () => {
  const dup = withChange((d) =>
    d.devices.interfaces.push(nic('52:54:00:00:00:01'), nic('52:54:00:00:00:01')),
  );
  rejects(dup, 'XML_ERROR', "Duplicate MAC address '52:54:00:00:00:01'");
  rejects(
    withChange((d) => d.devices.interfaces.push(nic('01:00:5e:00:00:01'))),
    'XML_ERROR',
    'multicast',
  );
  rejects(
    withChange((d) => d.devices.interfaces.push(nic('52:54:00:00:00:0G'))),
    'XML_ERROR',
    'Invalid MAC',
  );
});

test('validateDomainDef() checks serial ports, character devices and VNC ports', () => {
  const serials = withChange((d) =>
    d.devices.serials.push(
      { type: 'pty', targetPort: 0, extra: [] },
      { type: 'null', targetPort: 0, extra: [] },
    ),
  );
  rejects(serials, 'XML_ERROR', 'Duplicate serial port 0');
  rejects(
    withChange((d) => d.devices.consoles.push({ type: 'file', extra: [] })),
    'XML_ERROR',
    'source path',
  );
  const vnc = withChange((d) =>
    d.devices.graphics.push({ type: 'vnc', port: 5000, autoport: false, extra: [] }),
  );
  rejects(vnc, 'XML_ERROR', 'VNC port 5000');
  validateDomainDef(
    withChange((d) => d.devices.graphics.push({ type: 'vnc', port: -1, extra: [] })),
  );
});
