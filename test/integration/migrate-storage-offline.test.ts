/**
 * Offline migration of a shut-off guest with a per-host disk, on two testbed hosts: with
 * --copy-storage-all the disk goes along, and the guest booted on the destination with
 * `ferry.disk_check=1` finds every write it recorded at its clean shutdown (the check's `seq`
 * is the synced one: no rollback); without it only the definition moves, with a warning that
 * the disk is missing on the destination. Root only (namespaces).
 * @module
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import { parseDiskChecks, parseDiskSyncs, type DiskCheck } from '../../guest/heartbeat.js';
import { waitForConsole } from '../helpers/guest.js';
import { execOk, startGuestOn } from '../helpers/remote.js';
import { waitUntil } from '../helpers/migration.js';
import {
  createImageOn,
  existsOn,
  fileDisk,
  HOST_IMAGES,
  imageInfoOn,
  MiB,
  startDiskGuestOn,
  stateOn,
} from '../helpers/storage.js';
import { useTestbed } from '../helpers/testbed.js';

const asRoot = process.getuid?.() === 0;
const rootOnly = asRoot ? {} : { skip: 'needs root (network namespaces)' };

const serialText = (serial: string): string => {
  try {
    return readFileSync(serial, 'utf8');
  } catch {
    return '';
  }
};

/** Redefines `name` on `host` with `extra` added to its kernel command line. */
async function addCmdline(host: TestbedHost, name: string, extra: string, dir: string) {
  const xml = await host.ferryOk('dumpxml', name, '--inactive');
  const changed = xml.replace('</cmdline>', ` ${extra}</cmdline>`);
  assert.notEqual(changed, xml, 'the definition has a <cmdline>');
  const file = join(dir, `${name}-check.xml`);
  writeFileSync(file, changed);
  await host.ferryOk('define', file);
}

void test(
  'offline --copy-storage-all moves a shut-off guest’s disk; the guest boots there with every write',
  {
    ...rootOnly,
    timeout: 300_000,
  },
  async (t) => {
    const tb = await useTestbed(t, { hosts: 2, sshd: false });
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    await execOk(h2, ['mkdir', '-p', HOST_IMAGES]);
    const image = `${HOST_IMAGES}/off.qcow2`;
    await createImageOn(h1, image, 'qcow2', '24M');
    const serial = await startDiskGuestOn(t, h1, {
      name: 'off',
      disks: fileDisk(image, { format: 'qcow2' }),
    });
    await waitForConsole(serial, /FERRY-ACPI-READY/);
    assert.equal(
      await h1.ferryOk('shutdown', 'off', '--wait', '90'),
      "Domain 'off' is shut off\n\n",
    );
    const synced = parseDiskSyncs(serialText(serial));
    assert.equal(synced.length, 1, 'the workload recorded its writes at the shutdown');
    const last = synced[0];
    assert.ok(last?.ok === true && last.seq > 0);

    const r = await h1.ferry(
      'migrate',
      '--offline',
      '--persistent',
      '--copy-storage-all',
      'off',
      h2.tcpUri,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await stateOn(h2, 'off'), 'shut off');
    assert.deepEqual(await imageInfoOn(h2, image), { format: 'qcow2', virtualSize: 24 * MiB });

    // Booted on the destination with the check: the copy holds every recorded write.
    const before = serialText(serial).length;
    await addCmdline(h2, 'off', 'ferry.disk_check=1', tb.dir);
    await h2.ferryOk('start', 'off');
    let check: DiskCheck | undefined;
    await waitUntil(
      'the disk check on the destination',
      () => (check = parseDiskChecks(serialText(serial).slice(before))[0]) !== undefined,
      120_000,
    );
    assert.deepEqual(check, {
      blocks: check?.blocks,
      bad: 0,
      lost: 0,
      ok: true,
      seq: last.seq,
      clean: true,
    });
    await h2.ferryOk('destroy', 'off');
  },
);

void test(
  'offline migration without --copy-storage-all moves the definition alone and warns of the missing disk',
  {
    ...rootOnly,
    timeout: 120_000,
  },
  async (t) => {
    const tb = await useTestbed(t, { hosts: 2, sshd: false });
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    const image = `${HOST_IMAGES}/def.raw`;
    await createImageOn(h1, image, 'raw', '16M');
    await startGuestOn(t, h1, { name: 'def', extraDevices: fileDisk(image) }, false);
    const r = await h1.ferry('migrate', '--offline', '--persistent', 'def', h2.tcpUri);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*'vda'.*(missing|does not exist|not found)/i);
    assert.equal(await stateOn(h2, 'def'), 'shut off');
    assert.equal(await existsOn(h2, image), false, 'no disk was made on the destination');
    assert.ok(await existsOn(h1, image), 'the source keeps its disk');
  },
);
