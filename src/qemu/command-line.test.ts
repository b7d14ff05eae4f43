import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiskDef, DomainDef } from '../domain/def.js';
import { FerryError } from '../common/errors.js';
import { withBootDefaults } from '../domain/defaults.js';
import { buildCommandLine, effectiveSerials, qemuOptValue } from './command-line.js';

function baseDef(overrides: Partial<DomainDef> = {}): DomainDef {
  return {
    type: 'qemu',
    name: 'vm1',
    uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f',
    memoryKiB: 131072,
    currentMemoryKiB: 131072,
    vcpus: 1,
    os: {
      type: 'hvm',
      arch: 'x86_64',
      machine: 'pc',
      kernel: '/k',
      initrd: '/i',
      cmdline: 'console=ttyS0',
      boot: [],
      extra: [],
    },
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
    ...overrides,
  };
}

const ctx = { qmpSocket: '/run/f/u.qmp', pidFile: '/run/f/u.pid', startPaused: true };

test('buildCommandLine() gives the argv of a minimal kernel-boot guest', () => {
  assert.deepEqual(buildCommandLine(baseDef(), ctx), [
    '-name',
    'guest=vm1,debug-threads=on',
    '-uuid',
    '6695eb01-f6a4-8304-79aa-97f2502e193f',
    '-no-user-config',
    '-nodefaults',
    '-machine',
    'pc,accel=tcg',
    '-m',
    'size=131072k',
    '-smp',
    '1',
    '-chardev',
    'socket,id=charmonitor,path=/run/f/u.qmp,server=on,wait=off',
    '-mon',
    'chardev=charmonitor,id=monitor,mode=control',
    '-pidfile',
    '/run/f/u.pid',
    '-rtc',
    'base=utc',
    '-no-shutdown',
    '-action',
    'panic=pause',
    '-S',
    '-kernel',
    '/k',
    '-initrd',
    '/i',
    '-append',
    'console=ttyS0',
    '-display',
    'none',
    '-msg',
    'timestamp=on',
  ]);
});

test('buildCommandLine() maps type kvm to the KVM accelerator and custom CPUs to -cpu', () => {
  const argv = buildCommandLine(
    baseDef({
      type: 'kvm',
      cpu: {
        mode: 'custom',
        model: { name: 'Haswell-noTSX' },
        features: [
          { policy: 'require', name: 'vmx' },
          { policy: 'disable', name: 'pcid' },
        ],
        extra: [],
      },
    }),
    ctx,
  );
  assert.equal(argv[argv.indexOf('-machine') + 1], 'pc,accel=kvm');
  assert.equal(argv[argv.indexOf('-cpu') + 1], 'Haswell-noTSX,vmx=on,pcid=off');
});

test("buildCommandLine() opens network disks with QEMU's own NBD and NFS clients", () => {
  const disk = (dev: string, network: NonNullable<DiskDef['network']>): DiskDef => ({
    type: 'network',
    device: 'disk',
    driver: { name: 'qemu', type: 'raw', cache: 'none' },
    network,
    target: { dev, bus: 'virtio' },
    readonly: false,
    shareable: true,
    extra: [],
  });
  const def = baseDef({
    devices: {
      ...baseDef().devices,
      disks: [
        disk('vda', { protocol: 'nbd', name: 'vm1', host: '10.0.0.5' }),
        disk('vdb', { protocol: 'nfs', name: '/srv/nfs/vm1.qcow2', host: 'store' }),
      ],
    },
  });
  const list = buildCommandLine(def, ctx);
  const blockdevs = list.flatMap((a, i): Record<string, unknown>[] =>
    list[i - 1] === '-blockdev' ? [JSON.parse(a) as Record<string, unknown>] : [],
  );
  assert.deepEqual(blockdevs[0], {
    driver: 'nbd',
    'node-name': 'ferry-vda-storage',
    server: { type: 'inet', host: '10.0.0.5', port: '10809' },
    export: 'vm1',
    cache: { direct: true, 'no-flush': false },
    'read-only': false,
  });
  const nfs = blockdevs[2];
  assert.ok(nfs !== undefined);
  assert.equal(nfs['driver'], 'nfs');
  assert.equal(nfs['path'], '/srv/nfs/vm1.qcow2');
  assert.match(list.join(' '), /drive=ferry-vdb-format,write-cache=on,share-rw=on,id=virtio-disk1/);
});

test('buildCommandLine() wires disks, NICs and an appending file serial', () => {
  const def = baseDef({
    devices: {
      disks: [
        {
          type: 'file',
          device: 'disk',
          driver: { name: 'qemu', type: 'qcow2', cache: 'none' },
          source: '/img/a,b.qcow2',
          target: { dev: 'vda', bus: 'virtio' },
          readonly: false,
          shareable: false,
          extra: [],
        },
        {
          type: 'file',
          device: 'cdrom',
          driver: { name: 'qemu', type: 'raw' },
          source: '/iso',
          target: { dev: 'sda', bus: 'sata' },
          readonly: true,
          shareable: false,
          extra: [],
        },
      ],
      interfaces: [{ type: 'user', mac: '52:54:00:12:34:56', extra: [] }],
      serials: [{ type: 'file', path: '/log/s.log', append: true, targetPort: 0, extra: [] }],
      consoles: [
        {
          type: 'file',
          path: '/log/s.log',
          append: true,
          targetType: 'serial',
          targetPort: 0,
          extra: [],
        },
      ],
      graphics: [],
      hostdevs: [],
      panics: [],
      extra: [],
    },
  });
  const list = buildCommandLine(def, ctx);
  const argv = list.join(' ');
  const blockdevs = list.flatMap((a, i): Record<string, unknown>[] =>
    list[i - 1] === '-blockdev' ? [JSON.parse(a) as Record<string, unknown>] : [],
  );
  assert.deepEqual(blockdevs, [
    {
      driver: 'file',
      filename: '/img/a,b.qcow2',
      'node-name': 'ferry-vda-storage',
      cache: { direct: true, 'no-flush': false },
      'read-only': false,
    },
    {
      'node-name': 'ferry-vda-format',
      driver: 'qcow2',
      file: 'ferry-vda-storage',
      'read-only': false,
    },
    {
      driver: 'file',
      filename: '/iso',
      'node-name': 'ferry-sda-storage',
      cache: { direct: false, 'no-flush': false },
      'read-only': true,
    },
    {
      'node-name': 'ferry-sda-format',
      driver: 'raw',
      file: 'ferry-sda-storage',
      'read-only': true,
    },
  ]);
  assert.match(
    argv,
    /-device virtio-blk-pci,drive=ferry-vda-format,write-cache=on,id=virtio-disk0/,
  );
  assert.match(
    argv,
    /-device ich9-ahci,id=sata0 -device ide-cd,bus=sata0\.0,drive=ferry-sda-format,id=sata-disk1/,
  );
  assert.match(
    argv,
    /-netdev user,id=hostnet0 -device virtio-net-pci,netdev=hostnet0,id=net0,mac=52:54:00:12:34:56/,
  );
  // The console duplicates serial0, so QEMU gets one serial port, not two.
  assert.equal(argv.match(/isa-serial/g)?.length, 1);
  assert.match(argv, /-chardev file,id=charserial0,path=\/log\/s\.log,append=on/);
});

test('buildCommandLine() logs a pty console so it can be read back', () => {
  const def = baseDef();
  def.devices.serials.push({ type: 'pty', targetPort: 0, extra: [] });
  const argv = buildCommandLine(def, { ...ctx, ptyLogFile: '/run/f/c.log' });
  assert.ok(argv.includes('pty,id=charserial0,logfile=/run/f/c.log,logappend=on'));
});

test('buildCommandLine() refuses what this host cannot run, naming it', () => {
  const withHostdev = baseDef();
  withHostdev.devices.hostdevs.push({ raw: "<hostdev mode='subsystem' type='pci'/>" });
  assert.throws(
    () => buildCommandLine(withHostdev, ctx),
    (e: unknown) => e instanceof FerryError && /hostdev/.test(e.message),
  );
  const withNetwork = baseDef();
  withNetwork.devices.interfaces.push({ type: 'network', source: 'default', extra: [] });
  assert.throws(() => buildCommandLine(withNetwork, ctx), /virtual network 'default'/);
});

test('a booted guest gets an ISA pvpanic device unless its definition opts out', () => {
  const pvpanic = (argv: string[]): string[] =>
    argv.filter((a, i) => argv[i - 1] === '-device' && a.startsWith('pvpanic'));
  // As written, the definition has no <panic>: the device comes from the boot defaults.
  assert.deepEqual(pvpanic(buildCommandLine(baseDef(), ctx)), []);
  const booted = withBootDefaults(baseDef());
  assert.deepEqual(booted.devices.panics, [{ model: 'isa', extra: [] }]);
  assert.deepEqual(pvpanic(buildCommandLine(booted, ctx)), ['pvpanic,id=panic0']);
  const optedOut = withBootDefaults(baseDef({ ferry: { pvpanic: false } }));
  assert.deepEqual(optedOut.devices.panics, []);
  assert.deepEqual(pvpanic(buildCommandLine(optedOut, ctx)), []);
  // An explicit <panic> with its own port is used as it is.
  const explicit = baseDef();
  explicit.devices.panics.push({ model: 'isa', iobase: 0x506, extra: [] });
  assert.equal(withBootDefaults(explicit), explicit);
  assert.deepEqual(pvpanic(buildCommandLine(explicit, ctx)), ['pvpanic,id=panic0,ioport=1286']);
  // Whatever the device, QEMU keeps a panicked guest paused rather than resetting it.
  const argv = buildCommandLine(optedOut, ctx);
  assert.equal(argv[argv.indexOf('-action') + 1], 'panic=pause');
});

test('effectiveSerials() keeps a console that has no serial of its own', () => {
  const def = baseDef();
  def.devices.consoles.push({ type: 'pty', targetType: 'serial', targetPort: 0, extra: [] });
  assert.equal(effectiveSerials(def).length, 1);
});

test('qemuOptValue() doubles commas', () => {
  assert.equal(qemuOptValue('a,b,,c'), 'a,,b,,,,c');
});
