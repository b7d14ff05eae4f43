/**
 * Live migration that copies disks (--copy-storage-all, --copy-storage-inc, --migrate-disks)
 * between two testbed hosts, each with its own /var/lib/ferry/images, while the guest keeps
 * writing its disk: the destination's target is created like the source's (or a pre-created
 * one accepted when it matches, refused when it does not), domjobinfo shows the File fields,
 * the source image is left alone afterwards, and the guest's verifier finds every write on
 * the destination. Root only (namespaces).
 * @module
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import { execOk, secureHosts, SECURE_CONFIG } from '../helpers/remote.js';
import { jobBytes, jobField, keepsBeating, waitForJob } from '../helpers/migration.js';
import {
  assertDiskClean,
  assertDiskSurvived,
  createImageOn,
  existsOn,
  fileDisk,
  fillImageOn,
  HOST_IMAGES,
  imageInfoOn,
  MiB,
  sha256On,
  startDiskGuestOn,
  stateOn,
  type ImageFormat,
} from '../helpers/storage.js';
import { useTestbed } from '../helpers/testbed.js';

const asRoot = process.getuid?.() === 0;
const rootOnly = asRoot ? {} : { skip: 'needs root (network namespaces)' };

async function migrate(src: TestbedHost, dst: TestbedHost, name: string, ...flags: string[]) {
  return src.ferry('migrate', '--live', '--persistent', ...flags, name, dst.tcpUri);
}

/**
 * The completed job on `host` copied a disk of `size` bytes (virsh's File lines): the total is
 * the mirror's work, the disk's data (the target is zeroed up front with unmap, so holes do
 * not count) plus what the guest wrote again during the copy (under 8 MiB).
 */
async function assertCopied(host: TestbedHost, name: string, size: number): Promise<void> {
  const done = await host.ferryOk('domjobinfo', name, '--completed');
  assert.equal(jobField(done, 'Job type'), 'Completed', done);
  const total = jobBytes(done, 'File total') ?? 0;
  assert.ok(total > 0 && total < size + 8 * MiB, done);
  assert.equal(jobBytes(done, 'File processed'), total, done);
  assert.equal(jobBytes(done, 'File remaining'), 0, done);
}

void test(
  '--copy-storage-all copies raw and qcow2 disks while the guest writes them',
  { ...rootOnly, timeout: 300_000 },
  async (t) => {
    const tb = await useTestbed(t, { hosts: 2, sshd: false });
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    await execOk(h2, ['mkdir', '-p', HOST_IMAGES]);
    for (const format of ['raw', 'qcow2'] as ImageFormat[]) {
      const name = `vm-${format}`;
      const path = `${HOST_IMAGES}/${name}.${format}`;
      await createImageOn(h1, path, format, '24M');
      const serial = await startDiskGuestOn(t, h1, { name, disks: fileDisk(path, { format }) });
      // The first write of each block reaches the disk while the mirror runs.
      const r = await migrate(h1, h2, name, '--copy-storage-all');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await stateOn(h2, name), 'running');
      assert.equal(await stateOn(h1, name), 'shut off');
      assert.deepEqual(await imageInfoOn(h2, path), { format, virtualSize: 24 * MiB });
      await assertCopied(h1, name, 24 * MiB);
      const sourceImage = await sha256On(h1, path);
      await assertDiskSurvived(serial);
      assert.equal(await sha256On(h1, path), sourceImage, 'the source image is left alone');
      await h2.ferryOk('destroy', name);
    }
  },
);

void test(
  '--copy-storage-inc copies a qcow2 overlay over a shared base; --migrate-disks copies one disk of two',
  { ...rootOnly, timeout: 300_000 },
  async (t) => {
    const tb = await useTestbed(t, { hosts: 2, sshd: false });
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    await execOk(h2, ['mkdir', '-p', HOST_IMAGES]);
    const shared = mkdtempSync(join(tmpdir(), 'ferry-base-'));
    t.after(() => rmSync(shared, { recursive: true, force: true }));

    // A raw base with data past the workload's region, in the shared /tmp; the overlay is
    // per host.
    const base = join(shared, 'base.raw');
    await createImageOn(h1, base, 'raw', '32M');
    await fillImageOn(h1, base, 'raw', '16M', '4M', 0xa7);
    const overlay = `${HOST_IMAGES}/inc.qcow2`;
    await createImageOn(h1, overlay, 'qcow2', '32M', { file: base, format: 'raw' });
    const serial = await startDiskGuestOn(t, h1, {
      name: 'inc',
      disks: fileDisk(overlay, { format: 'qcow2' }),
    });
    const r = await migrate(h1, h2, 'inc', '--copy-storage-inc');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await imageInfoOn(h2, overlay), {
      format: 'qcow2',
      virtualSize: 32 * MiB,
      backingFile: base,
    });
    // The base's data reads through the destination's overlay.
    await execOk(h2, ['qemu-io', '-U', '-r', '-f', 'qcow2', '-c', 'read -P 0xa7 16M 4M', overlay]);
    await assertDiskSurvived(serial);
    await h2.ferryOk('destroy', 'inc');

    // vda shared in /tmp, vdb (the workload's) per host: only vdb is copied.
    const vda = join(shared, 'two-vda.raw');
    const vdb = `${HOST_IMAGES}/two-vdb.raw`;
    await createImageOn(h1, vda, 'raw', '16M');
    await createImageOn(h1, vdb, 'raw', '24M');
    const serial2 = await startDiskGuestOn(t, h1, {
      name: 'two',
      disks: fileDisk(vda, { dev: 'vda' }) + fileDisk(vdb, { dev: 'vdb' }),
      workload: { dev: '/dev/vdb' },
    });
    const r2 = await migrate(h1, h2, 'two', '--copy-storage-all', '--migrate-disks', 'vdb');
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(await stateOn(h2, 'two'), 'running');
    await assertCopied(h1, 'two', 24 * MiB);
    assert.deepEqual(await imageInfoOn(h2, vdb), { format: 'raw', virtualSize: 24 * MiB });
    await assertDiskSurvived(serial2);
    await h2.ferryOk('destroy', 'two');
  },
);

void test(
  'a pre-created target: a matching one is used and outlives a failed job, a mismatching one is refused',
  { ...rootOnly, timeout: 300_000 },
  async (t) => {
    const tb = await useTestbed(t, { hosts: 2, sshd: false });
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    await execOk(h2, ['mkdir', '-p', HOST_IMAGES]);
    const path = `${HOST_IMAGES}/pre.raw`;
    await createImageOn(h1, path, 'raw', '32M');
    // Data beyond the workload's region: the mirror has it to copy, slowly over a shaped link.
    await fillImageOn(h1, path, 'raw', '8M', '24M');
    const serial = await startDiskGuestOn(t, h1, { name: 'pre', disks: fileDisk(path) });

    // Mismatching targets: another size, another format. Refused; nothing changes anywhere.
    for (const [format, size, seen] of [
      ['raw', '16M', /as raw of 16\.000 MiB, but the source disk is raw of 32\.000 MiB/],
      ['qcow2', '32M', /as qcow2 of 32\.000 MiB, but the source disk is raw of 32\.000 MiB/],
    ] as const) {
      await createImageOn(h2, path, format, size);
      const before = await sha256On(h2, path);
      const r = await migrate(h1, h2, 'pre', '--copy-storage-all');
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`^error: .*Disk 'vda': '${path}' exists on the destination`, 'm'),
      );
      assert.match(r.stderr, seen);
      assert.equal(await sha256On(h2, path), before, 'the mismatching target is untouched');
      assert.equal(await stateOn(h2, 'pre'), undefined);
      assert.equal(await stateOn(h1, 'pre'), 'running');
      await execOk(h2, ['rm', '-f', path]);
    }

    // A matching one, and a job that fails during the copy (aborted): the target stays.
    await createImageOn(h2, path, 'raw', '32M');
    await h2.shape('16mbit');
    const job = migrate(h1, h2, 'pre', '--copy-storage-all');
    await waitForJob(h1, 'pre', (info) => (jobBytes(info, 'File processed') ?? 0) > 0);
    await h1.ferryOk('domjobabort', 'pre');
    const aborted = await job;
    assert.equal(aborted.code, 1);
    assert.match(aborted.stderr, /^error: .*cancel/im);
    assert.ok(await existsOn(h2, path), 'the pre-created target is not removed');
    assert.equal(await stateOn(h1, 'pre'), 'running');
    await keepsBeating(serial);

    // Used as it is by the next migration.
    await h2.shape(undefined);
    const r = await migrate(h1, h2, 'pre', '--copy-storage-all');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await stateOn(h2, 'pre'), 'running');
    await assertDiskSurvived(serial);
    assertDiskClean(serial);
    await h2.ferryOk('destroy', 'pre');
  },
);

void test(
  "--copy-storage-all --tls: the disks go over the destination's NBD server with TLS too",
  { ...rootOnly, timeout: 300_000 },
  async (t) => {
    const tb = await useTestbed(t, {
      hosts: 2,
      sshd: false,
      ferryd: false,
      extraConfig: SECURE_CONFIG,
    });
    const pki = mkdtempSync(join(tmpdir(), 'ferry-pki-'));
    t.after(() => rmSync(pki, { recursive: true, force: true }));
    await secureHosts(tb, pki);
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    await execOk(h2, ['mkdir', '-p', HOST_IMAGES]);
    const path = `${HOST_IMAGES}/vm-tls.qcow2`;
    await createImageOn(h1, path, 'qcow2', '24M');
    const serial = await startDiskGuestOn(t, h1, {
      name: 'vm-tls',
      disks: fileDisk(path, { format: 'qcow2' }),
    });
    const r = await h1.ferry(
      'migrate',
      '--live',
      '--persistent',
      '--undefinesource',
      '--copy-storage-all',
      '--tls',
      'vm-tls',
      `qemu+tls://${h2.name}/system`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await stateOn(h2, 'vm-tls'), 'running');
    await assertCopied(h2, 'vm-tls', 24 * MiB);
    await assertDiskSurvived(serial);
    await h2.ferryOk('destroy', 'vm-tls');
  },
);
