/**
 * The NBD storage host: a dir pool exported by `ferry pool-export` on one testbed host
 * (storage) and used as an nbd pool on another (client). Data written through NBD from the
 * client lands in the file on the storage host; a volume made on the storage host appears on
 * the client after pool-refresh; pool-unexport leaves no qemu-storage-daemon. Boots no guest.
 * @module
 */
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { execOk } from '../helpers/remote.js';
import { useTestbed } from '../helpers/testbed.js';

const asRoot = process.getuid?.() === 0;
const rootOnly = asRoot ? {} : { skip: 'needs root (network namespaces)' };

/** Whether something accepts connections on the unix socket at `path` (seen from outside). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function readBytes(path: string, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return buf;
}

void test(
  'an exported dir pool is an nbd pool on another host: listing, writes through NBD, refresh, unexport',
  { ...rootOnly, timeout: 300_000 },
  async (t) => {
    const tb = await useTestbed(t, { names: ['storage', 'client'], sshd: false });
    const [storage, client] = [tb.host('storage'), tb.host('client')];
    // /tmp is shared by the testbed hosts: the test reads the storage host's file from here.
    const dir = mkdtempSync(join(tmpdir(), 'ferry-nbd-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const images = join(dir, 'images');

    await storage.ferryOk('pool-define-as', 'images', 'dir', '--target', images);
    await storage.ferryOk('pool-start', 'images', '--build');
    await storage.ferryOk('vol-create-as', 'images', 'disk.img', '16M');
    await storage.ferryOk('vol-create-as', 'images', 'disk.qcow2', '64M', '--format', 'qcow2');
    const uuid = /^UUID: +(\S+)$/m.exec(await storage.ferryOk('pool-info', 'images'))?.[1];
    assert.ok(uuid !== undefined);
    assert.equal(
      await storage.ferryOk('pool-export', 'images', '--listen', storage.address),
      `Pool images exported on nbd://${storage.address}:10809\n\n`,
    );
    const pidFile = join(storage.paths.runDir, 'storage', `${uuid}.pid`);
    const qmpSocket = join(storage.paths.runDir, 'storage', `${uuid}.qmp`);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    t.after(() => {
      // Only if the test failed before pool-unexport: the storage daemon this test started.
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('qemu-storage-daemon'))
          process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    });
    assert.match(
      await storage.ferryOk('pool-info', 'images'),
      new RegExp(`^Exported: +nbd://${storage.address.replace(/\./g, '\\.')}:10809$`, 'm'),
    );

    // The client sees the exports, with the description that names the pool and the volume.
    const listing = await execOk(client, ['qemu-nbd', '--list', '-b', 'storage']);
    assert.match(listing, new RegExp(`description: ferry-volume pool=${uuid} volume=disk\\.img`));
    await client.ferryOk('pool-define-as', 'shared', 'nbd', '--source-host', 'storage:10809');
    await client.ferryOk('pool-start', 'shared');
    const vols = await client.ferryOk('vol-list', 'shared', '--details');
    assert.match(vols, /^ disk\.img +nbd:\/\/storage:10809\/disk\.img +network +16\.00 MiB /m);
    // A qcow2 volume is served as the guest sees it: its virtual size, raw.
    assert.match(vols, /^ disk\.qcow2 +nbd:\/\/storage:10809\/disk\.qcow2 +network +64\.00 MiB /m);
    assert.equal(
      await client.ferryOk('vol-path', 'disk.img', '--pool', 'shared'),
      'nbd://storage:10809/disk.img\n\n',
    );

    // Bytes written through NBD on the client are in the file on the storage host.
    await execOk(client, [
      'qemu-io',
      '-f',
      'raw',
      '-c',
      'write -P 0x5a 0 1M',
      'nbd://storage:10809/disk.img',
    ]);
    assert.ok(
      readBytes(join(images, 'disk.img'), 0, 1024 * 1024).every((b) => b === 0x5a),
      'the storage host file holds the pattern',
    );
    assert.equal(readBytes(join(images, 'disk.img'), 1024 * 1024, 1)[0], 0);
    // And through the qcow2 image's format layer as well.
    await execOk(client, [
      'qemu-io',
      '-f',
      'raw',
      '-c',
      'write -P 0xa5 4M 64k',
      'nbd://storage:10809/disk.qcow2',
    ]);
    await execOk(storage, [
      'qemu-io',
      '-U',
      '-r',
      '-f',
      'qcow2',
      '-c',
      'read -P 0xa5 4M 64k',
      join(images, 'disk.qcow2'),
    ]);

    // Client-side volume changes are refused, saying where to make them.
    const refused = await client.ferry('vol-create-as', 'shared', 'new.img', '1M');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /create the volume on the storage host/);

    // A volume made on the storage host is exported at once and seen after pool-refresh.
    await storage.ferryOk('vol-create-as', 'images', 'new.img', '8M');
    await client.ferryOk('pool-refresh', 'shared');
    assert.match(
      await client.ferryOk('vol-list', 'shared', '--details'),
      /^ new\.img +\S+ +network +8\.00 MiB /m,
    );
    // And a deleted one stops being exported.
    await storage.ferryOk('vol-delete', 'new.img', '--pool', 'images');
    await client.ferryOk('pool-refresh', 'shared');
    assert.doesNotMatch(await client.ferryOk('vol-list', 'shared'), /new\.img/);

    // ferryd restarts; the storage daemon keeps serving and is taken up again.
    await storage.restartFerryd();
    assert.match(await storage.ferryOk('pool-info', 'images'), /^Exported: /m);
    await client.ferryOk('pool-refresh', 'shared');

    assert.equal(await storage.ferryOk('pool-unexport', 'images'), 'Pool images unexported\n\n');
    assert.equal(
      await socketAnswers(qmpSocket),
      false,
      'the storage daemon’s QMP socket is closed',
    );
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // Reaped already.
    }
    assert.equal(
      cmdline,
      '',
      'no qemu-storage-daemon left (gone, or a zombie awaiting its reaper)',
    );
    assert.doesNotMatch(await storage.ferryOk('pool-info', 'images'), /Exported/);
    const gone = await client.ferry('pool-refresh', 'shared');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /cannot list the exports of the NBD server at storage:10809/);
  },
);
