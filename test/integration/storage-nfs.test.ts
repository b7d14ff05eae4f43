/**
 * netfs storage without a kernel NFS client: a testbed host ("storage") runs the userspace NFS
 * server (NFS-Ganesha + rpcbind, src/testbed/nfs.ts); the netfs functions (src/storage/netfs.ts)
 * run on two other hosts and reach it through libnfs, qemu-img and their own NFSv3 client, and
 * QEMU boots the test guest from a volume it opens over NFS itself. Root only (namespaces).
 * @module
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import {
  guestBaseCmdline,
  guestInitrd,
  guestKernel,
  readHeartbeats,
  REPO,
  waitForHeartbeat,
} from '../helpers/guest.js';
import { useTestbed, type Testbed, type TestbedHost } from '../helpers/testbed.js';
import { volumeSource, type NetfsVolume, type NetfsSpace } from '../../src/storage/netfs.js';
import { cleanupTestbeds, openTestbed } from '../../src/testbed/index.js';
import { isRunning, type ProcessRecord } from '../../src/testbed/processes.js';
import { readRecord } from '../../src/testbed/state.js';

const asRoot = process.getuid?.() === 0;
const rootOnly = asRoot ? {} : { skip: 'needs root (network namespaces)' };
const CALL = join(REPO, 'test', 'helpers', 'netfs-call.ts');
const MiB = 1024 * 1024;

/** A netfs function run on `h` against the testbed's export (or another directory). */
async function netfs(tb: Testbed, h: TestbedHost, op: string, arg?: string, exportPath?: string) {
  const nfs = tb.nfs;
  assert.ok(nfs !== undefined);
  const argv = ['node', '--import', 'tsx', CALL, op, nfs.address, exportPath ?? nfs.exportDir];
  const r = await h.exec(arg === undefined ? argv : [...argv, arg], {
    cwd: REPO,
    timeoutMs: 120_000,
  });
  return {
    ok: r.code === 0,
    value: r.code === 0 ? (JSON.parse(r.stdout) as unknown) : undefined,
    error: r.stderr.trim(),
  };
}

async function netfsOk(tb: Testbed, h: TestbedHost, op: string, arg?: string): Promise<unknown> {
  const r = await netfs(tb, h, op, arg);
  assert.ok(r.ok, `${op} on ${h.name}: ${r.error}`);
  return r.value;
}

async function qemuIo(h: TestbedHost, url: string, format: string, cmd: string) {
  return h.exec(['qemu-io', '-f', format, '-c', cmd, url], { timeoutMs: 120_000 });
}

function readBytes(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

test(
  'netfs volumes over a userspace NFS server: two hosts create, list, read and delete the same images',
  rootOnly,
  async (t) => {
    const tb = await useTestbed(t, {
      names: ['storage', 'a', 'b'],
      ferryd: false,
      sshd: false,
      nfs: { host: 'storage' },
    });
    const [a, b] = [tb.host('a'), tb.host('b')];
    const nfs = tb.nfs;
    assert.ok(nfs !== undefined);
    assert.deepEqual(await netfsOk(tb, a, 'list'), []);

    const space = (await netfsOk(tb, b, 'space')) as NetfsSpace;
    assert.ok(space.capacity > 0 && space.available <= space.capacity, JSON.stringify(space));

    // A qcow2 volume made on a: b sees it with the same format and size.
    const made = (await netfsOk(
      tb,
      a,
      'create',
      JSON.stringify({ name: 'vm.qcow2', capacity: 64 * MiB, format: 'qcow2' }),
    )) as NetfsVolume;
    assert.equal(made.path, `nfs://${nfs.address}${nfs.exportDir}/vm.qcow2`);
    const seen = (await netfsOk(tb, b, 'info', 'vm.qcow2')) as NetfsVolume;
    assert.deepEqual({ f: seen.format, c: seen.capacity }, { f: 'qcow2', c: 64 * MiB });
    assert.ok(existsSync(join(nfs.dir, 'vm.qcow2')), 'the image is on the storage host');

    // Bytes written by a through QEMU's nfs driver are read back by b, and are on the server.
    const raw = (await netfsOk(
      tb,
      b,
      'create',
      JSON.stringify({ name: 'data.raw', capacity: 8 * MiB, format: 'raw' }),
    )) as NetfsVolume;
    const w = await qemuIo(a, raw.path, 'raw', 'write -P 0xa5 1M 256k');
    assert.equal(w.code, 0, w.stderr + w.stdout);
    const r = await qemuIo(b, raw.path, 'raw', 'read -P 0xa5 1M 256k');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const wrong = await qemuIo(b, raw.path, 'raw', 'read -P 0x5a 1M 256k');
    assert.match(wrong.stdout + wrong.stderr, /Pattern verification failed/);
    assert.ok(
      readBytes(join(nfs.dir, 'data.raw'), MiB, 256 * 1024).equals(Buffer.alloc(256 * 1024, 0xa5)),
    );
    const wq = await qemuIo(b, made.path, 'qcow2', 'write -P 0x3c 0 64k');
    assert.equal(wq.code, 0, wq.stderr + wq.stdout);
    assert.equal((await qemuIo(a, made.path, 'qcow2', 'read -P 0x3c 0 64k')).code, 0);

    const names = ((await netfsOk(tb, a, 'list')) as NetfsVolume[]).map((v) => v.name);
    assert.deepEqual(names, ['data.raw', 'vm.qcow2']);

    // A name in use is refused and the volume is left as it was.
    const dup = await netfs(
      tb,
      a,
      'create',
      JSON.stringify({ name: 'vm.qcow2', capacity: MiB, format: 'raw' }),
    );
    assert.match(
      dup.error,
      /^error: OPERATION_FAILED storage volume name 'vm.qcow2' already in use$/,
    );
    assert.equal(((await netfsOk(tb, b, 'info', 'vm.qcow2')) as NetfsVolume).format, 'qcow2');

    // Deleted on b: gone for a and from the server; a second delete says it is not there.
    await netfsOk(tb, b, 'delete', 'data.raw');
    assert.equal(existsSync(join(nfs.dir, 'data.raw')), false);
    assert.equal(await netfsOk(tb, a, 'info', 'data.raw'), null);
    assert.deepEqual(
      ((await netfsOk(tb, a, 'list')) as NetfsVolume[]).map((v) => v.name),
      ['vm.qcow2'],
    );
    const again = await netfs(tb, a, 'delete', 'data.raw');
    assert.match(
      again.error,
      /Storage volume not found: no storage vol with matching name 'data.raw'/,
    );

    // A directory the server does not export is an error, not an empty pool.
    const elsewhere = await netfs(tb, a, 'list', undefined, '/srv/elsewhere');
    assert.match(
      elsewhere.error,
      /^error: OPERATION_FAILED cannot list nfs:\/\/.*\/srv\/elsewhere: .*MNT3ERR_/,
    );
  },
);

/** QEMU's own NFS client opens a volume: the storage contract's source as -blockdev nodes. */
function nfsDiskArgs(host: string, path: string): string[] {
  return [
    '-blockdev',
    `driver=nfs,node-name=nfs0,server.type=inet,server.host=${host},path=${path},cache.direct=on`,
    '-blockdev',
    'driver=qcow2,node-name=disk0,file=nfs0,cache.direct=on',
    '-device',
    'virtio-blk-pci,drive=disk0',
  ];
}

test(
  'the test guest runs its disk workload on a volume QEMU opens over NFS itself',
  rootOnly,
  async (t) => {
    const tb = await useTestbed(t, {
      names: ['storage', 'a', 'b'],
      ferryd: false,
      sshd: false,
      nfs: { host: 'storage' },
    });
    const [a, b] = [tb.host('a'), tb.host('b')];
    await netfsOk(
      tb,
      a,
      'create',
      JSON.stringify({ name: 'guest.qcow2', capacity: 64 * MiB, format: 'qcow2' }),
    );
    const nfs = tb.nfs;
    assert.ok(nfs !== undefined);
    const src = volumeSource({ host: nfs.address, exportPath: nfs.exportDir }, 'guest.qcow2');
    const dir = mkdtempSync(join(tmpdir(), 'ferry-nfs-guest-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const serial = join(dir, 'serial.log');
    const cmdline = `${guestBaseCmdline()} ferry.hb_ms=500 ferry.disk=/dev/vda ferry.disk_rate=1 ferry.disk_mb=16`;
    const qemu = a.spawn(
      [
        'qemu-system-x86_64',
        '-accel',
        'tcg',
        '-machine',
        'pc',
        '-m',
        '192',
        '-nodefaults',
        '-no-user-config',
        '-display',
        'none',
        '-serial',
        `file:${serial}`,
        '-kernel',
        guestKernel(),
        '-initrd',
        guestInitrd(),
        '-append',
        cmdline,
        ...nfsDiskArgs(src.host, src.name),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    qemu.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => qemu.on('exit', () => resolve()));
    t.after(async () => {
      qemu.kill('SIGKILL');
      await exited;
    });
    // 16 MiB at 1 MiB/s: past 4096 blocks the writer has wrapped and re-read what it wrote.
    const hb = await waitForHeartbeat(serial, {
      timeoutMs: 240_000,
      pred: (h) => (h.diskWritten ?? 0) > 4096 + 256,
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}
qemu stderr: ${stderr}`);
    });
    assert.ok(
      readHeartbeats(serial).every((h) => h.diskCorrupt === 0),
      'no corrupt disk block',
    );
    assert.equal(hb.diskCorrupt, 0);
    qemu.kill('SIGKILL');
    await exited;
    // The image the guest wrote is sound when another host opens it.
    const check = await b.exec(['qemu-img', 'check', `nfs://${src.host}${src.name}`], {
      timeoutMs: 120_000,
    });
    assert.equal(check.code, 0, check.stderr + check.stdout);
    assert.match(check.stdout, /No errors were found on the image/);
  },
);

/** The NFS server processes a testbed record names. */
function nfsProcesses(dir: string): ProcessRecord[] {
  return readRecord(dir).hosts.flatMap((h) =>
    [h.nfs?.ganesha, h.nfs?.rpcbind].filter((p): p is ProcessRecord => p !== undefined),
  );
}

test(
  'down ends the NFS server; cleanupTestbeds() ends one whose owner was killed',
  rootOnly,
  async (t) => {
    const tb = await useTestbed(t, { hosts: 2, ferryd: false, sshd: false, nfs: { host: 'h2' } });
    const procs = nfsProcesses(tb.dir);
    assert.equal(procs.length, 2, 'ganesha and rpcbind are recorded');
    assert.ok(procs.every(isRunning));
    await tb.down();
    assert.ok(!procs.some(isRunning), 'down ended ganesha and rpcbind');

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'test/helpers/testbed-owner.ts'), 'nfs'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const owned: { name?: string; dir?: string } = {};
    t.after(async () => {
      child.kill('SIGKILL');
      if (owned.name !== undefined && existsSync(owned.dir ?? ''))
        await openTestbed(owned.name).down();
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`testbed owner exited with ${code}`)));
    });
    const made = JSON.parse(line) as { name: string; dir: string };
    Object.assign(owned, made);
    const orphans = nfsProcesses(made.dir);
    assert.equal(orphans.length, 2);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    assert.ok(orphans.every(isRunning), 'the NFS server outlives the owner');
    await cleanupTestbeds();
    assert.ok(!orphans.some(isRunning), 'cleanup ended ganesha and rpcbind');
    assert.equal(existsSync(made.dir), false);
  },
);
