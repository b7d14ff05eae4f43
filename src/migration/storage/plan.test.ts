import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiskDef, DomainDef } from '../../domain/def.js';
import { FerryError } from '../../common/errors.js';
import { MigrateFlags } from '../../rpc/schema/migration.js';
import { planDisks } from './plan.js';
import { withDiskStats } from './job-stats.js';

function disk(dev: string, more: Partial<DiskDef> = {}): DiskDef {
  return {
    type: 'file',
    device: 'disk',
    driver: { name: 'qemu', type: 'raw' },
    source: `/img/${dev}.raw`,
    target: { dev, bus: 'virtio' },
    readonly: false,
    shareable: false,
    extra: [],
    ...more,
  };
}

function domain(disks: DiskDef[]): DomainDef {
  return {
    devices: {
      disks,
      interfaces: [],
      serials: [],
      consoles: [],
      graphics: [],
      hostdevs: [],
      panics: [],
      extra: [],
    },
    name: 'vm1',
  } as unknown as DomainDef;
}

const flags = (f: Record<string, unknown>): MigrateFlags =>
  MigrateFlags.parse({ live: true, ...f });

const DISKS = [
  disk('vda'),
  disk('vdb', { driver: { name: 'qemu', type: 'qcow2' } }),
  disk('vdc', { readonly: true }),
  disk('vdd', { shareable: true }),
  disk('hdc', { device: 'cdrom', target: { dev: 'hdc', bus: 'ide' } }),
  disk('vde', {
    type: 'network',
    network: { protocol: 'nbd', name: 'vm', host: '10.0.0.5' },
  }),
];

test('planDisks() without a copy flag expects every disk with a source to be shared', () => {
  const plan = planDisks(domain(DISKS), flags({}));
  assert.deepEqual(plan.copy, []);
  assert.equal(plan.shared.length, DISKS.length);
});

test('planDisks() --copy-storage-all copies writable local disks only', () => {
  const plan = planDisks(domain(DISKS), flags({ copyStorageAll: true }));
  assert.deepEqual(
    plan.copy.map((d) => d.target.dev),
    ['vda', 'vdb'],
  );
  assert.deepEqual(
    plan.shared.map((d) => d.target.dev),
    ['vdc', 'vdd', 'hdc', 'vde'],
  );
  assert.equal(plan.sync, 'full');
});

test('planDisks() --migrate-disks picks disks; the others must be shared', () => {
  const plan = planDisks(domain(DISKS), flags({ copyStorageAll: true, migrateDisks: ['vdb'] }));
  assert.deepEqual(
    plan.copy.map((d) => d.target.dev),
    ['vdb'],
  );
  assert.ok(plan.shared.some((d) => d.target.dev === 'vda'));
});

test('planDisks() refuses disks that cannot be copied, naming them', () => {
  const refused = (f: Record<string, unknown>, re: RegExp): void =>
    assert.throws(
      () => planDisks(domain(DISKS), flags(f)),
      (e: unknown) => e instanceof FerryError && re.test(e.message),
    );
  refused({ copyStorageAll: true, migrateDisks: ['vdz'] }, /disk target vdz not found/);
  refused(
    { copyStorageAll: true, migrateDisks: ['vdc'] },
    /'vdc' cannot be copied: it is read-only/,
  );
  refused({ copyStorageAll: true, migrateDisks: ['vde'] }, /network disk \(nbd\)/);
  refused({ copyStorageInc: true }, /'vda' is raw: --copy-storage-inc copies a qcow2 overlay/);
  const inc = planDisks(domain(DISKS), flags({ copyStorageInc: true, migrateDisks: ['vdb'] }));
  assert.equal(inc.sync, 'top');
});

test('withDiskStats() adds the disks to the Data fields; memory not started counts as remaining', () => {
  const disk = { diskProcessed: 100, diskRemaining: 300, diskTotal: 400, diskBandwidth: 50 };
  const before = withDiskStats({ type: 'None', status: 'none' }, disk, 1000);
  assert.equal(before.type, 'Unbounded');
  assert.deepEqual(
    [before.dataProcessed, before.dataRemaining, before.dataTotal],
    [100, 1300, 1400],
  );
  const during = withDiskStats(
    { type: 'Unbounded', status: 'active', dataProcessed: 10, dataRemaining: 20, dataTotal: 30 },
    { ...disk, diskProcessed: 400, diskRemaining: 0 },
    1000,
  );
  assert.deepEqual([during.dataProcessed, during.dataRemaining, during.dataTotal], [410, 20, 430]);
});
