/**
 * Live migration of guests whose disks both hosts reach, on testbed hosts with real QEMU:
 * a dir pool in a directory of the shared /tmp, an NBD storage host (`ferry pool-export`) and
 * a userspace NFS server. Nothing is copied (domjobinfo has no File lines); the guest keeps
 * writing its disk throughout, and after the migration its verifier sweeps the disk twice on
 * the destination and finds no corrupt or lost block, in one life. Root only (namespaces).
 * @module
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import { jobField } from '../helpers/migration.js';
import {
  assertDiskSurvived,
  createImageOn,
  nbdDisk,
  nfsDisk,
  startDiskGuestOn,
  stateOn,
  volumeDisk,
} from '../helpers/storage.js';
import { useTestbed } from '../helpers/testbed.js';

const asRoot = process.getuid?.() === 0;
const rootOnly = asRoot ? {} : { skip: 'needs root (network namespaces)' };

/** `domjobinfo --completed` of `name` on `host`: a completed job that copied no disk. */
async function assertNothingCopied(host: TestbedHost, name: string): Promise<void> {
  const done = await host.ferryOk('domjobinfo', name, '--completed');
  assert.equal(jobField(done, 'Job type'), 'Completed', done);
  assert.doesNotMatch(done, /^File /m, 'no disk was copied');
}

/** Live-migrates `name` from `src` to `dst` and checks where it runs afterwards. */
async function migrateLive(src: TestbedHost, dst: TestbedHost, name: string): Promise<void> {
  const r = await src.ferry('migrate', '--live', '--persistent', name, dst.tcpUri);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(await stateOn(dst, name), 'running');
  assert.equal(await stateOn(src, name), 'shut off');
}

void test(
  'a dir pool in a directory both hosts share: live migration copies nothing and loses no write',
  { ...rootOnly, timeout: 300_000 },
  async (t) => {
    const tb = await useTestbed(t, { hosts: 2, sshd: false });
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    const dir = mkdtempSync(join(tmpdir(), 'ferry-shared-pool-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const h of [h1, h2]) {
      await h.ferryOk('pool-define-as', 'shared', 'dir', '--target', dir);
      await h.ferryOk('pool-start', 'shared');
    }
    await h1.ferryOk('vol-create-as', 'shared', 'vm1.img', '48M');
    // The other host sees the same volume.
    await h2.ferryOk('pool-refresh', 'shared');
    assert.match(await h2.ferryOk('vol-list', 'shared'), /vm1\.img/);
    const path = (await h1.ferryOk('vol-path', 'vm1.img', '--pool', 'shared')).trim();
    assert.equal(path, join(dir, 'vm1.img'));

    const serial = await startDiskGuestOn(t, h1, {
      name: 'vm1',
      disks: volumeDisk('shared', 'vm1.img'),
    });
    await migrateLive(h1, h2, 'vm1');
    await assertNothingCopied(h2, 'vm1');
    await assertNothingCopied(h1, 'vm1');
    await assertDiskSurvived(serial);
    await h2.ferryOk('destroy', 'vm1');
  },
);

void test(
  'an NBD storage host: a guest on a network disk moves between two other hosts',
  {
    ...rootOnly,
    timeout: 300_000,
  },
  async (t) => {
    const tb = await useTestbed(t, { names: ['storage', 'a', 'b'], sshd: false });
    const [storage, a, b] = [tb.host('storage'), tb.host('a'), tb.host('b')];
    const dir = mkdtempSync(join(tmpdir(), 'ferry-nbd-pool-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await storage.ferryOk('pool-define-as', 'images', 'dir', '--target', join(dir, 'images'));
    await storage.ferryOk('pool-start', 'images', '--build');
    await storage.ferryOk('vol-create-as', 'images', 'vol', '48M');
    await storage.ferryOk('pool-export', 'images', '--listen', storage.address);

    const serial = await startDiskGuestOn(t, a, {
      name: 'vm1',
      disks: nbdDisk(storage.address, 10809, 'vol'),
    });
    await migrateLive(a, b, 'vm1');
    await assertNothingCopied(b, 'vm1');
    await assertDiskSurvived(serial);
    await b.ferryOk('destroy', 'vm1');
  },
);

void test(
  'an NFS server: a guest on a qcow2 image QEMU opens over NFS moves between two other hosts',
  { ...rootOnly, timeout: 300_000 },
  async (t) => {
    const tb = await useTestbed(t, {
      names: ['storage', 'a', 'b'],
      sshd: false,
      nfs: { host: 'storage' },
    });
    const [a, b] = [tb.host('a'), tb.host('b')];
    const nfs = tb.nfs;
    assert.ok(nfs !== undefined);
    const path = `${nfs.exportDir}/vm1.qcow2`;
    await createImageOn(a, `nfs://${nfs.address}${path}`, 'qcow2', '48M');

    const serial = await startDiskGuestOn(t, a, {
      name: 'vm1',
      disks: nfsDisk(nfs.address, path, { format: 'qcow2' }),
    });
    await migrateLive(a, b, 'vm1');
    await assertNothingCopied(b, 'vm1');
    await assertDiskSurvived(serial);
    await b.ferryOk('destroy', 'vm1');
  },
);
