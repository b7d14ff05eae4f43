/**
 * Storage pools and volumes on a real ferryd: a dir pool's whole life cycle through the CLI,
 * volumes checked with qemu-img, bad input that changes nothing, and pools that outlive a
 * ferryd restart (active ones stay active, autostart ones start).
 * @module
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { promisify } from 'node:util';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';

const exec = promisify(execFile);

async function imageInfo(path: string): Promise<Record<string, unknown>> {
  const { stdout } = await exec('qemu-img', ['info', '-U', '--output=json', path]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** Everything a storage command could change: ferryd's pool files, the pool's files, the listings. */
async function snapshot(d: TestDaemon, target: string): Promise<Record<string, unknown>> {
  const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
  return {
    config: files(join(d.stateDir, 'storage')),
    status: files(join(d.runDir, 'storage')),
    target: files(target),
    // Not --details: the file system's free space moves with whatever else runs.
    pools: await d.ferryOk('pool-list', '--all'),
    volumes: await d.ferryOk('vol-list', 'p1', '--details'),
  };
}

void test('a dir pool: define, build, start, list, info, volumes raw and qcow2, delete, destroy, undefine', async (t) => {
  const d = await startDaemon(t);
  const target = join(d.dir, 'images');

  assert.equal(
    await d.ferryOk('pool-define-as', 'p1', 'dir', '--target', target),
    'Pool p1 defined\n\n',
  );
  assert.match(await d.ferryOk('pool-list', '--all'), /^ p1 +inactive +no$/m);
  assert.equal(
    (await d.ferry('pool-start', 'p1')).stderr,
    `error: Failed to start pool p1\nerror: cannot open directory '${target}': No such file or directory\n`,
  );
  assert.equal(await d.ferryOk('pool-build', 'p1'), 'Pool p1 built\n\n');
  assert.ok(existsSync(target), 'pool-build made the target directory');
  assert.equal(await d.ferryOk('pool-start', 'p1'), 'Pool p1 started\n\n');
  assert.match(await d.ferryOk('pool-list'), /^ p1 +active +no$/m);
  const info = await d.ferryOk('pool-info', 'p1');
  assert.match(info, /^State: +running$/m);
  assert.match(info, /^Capacity: +\d+\.\d\d [KMGTP]?i?B$/m);
  assert.match(info, /^UUID: +[0-9a-f-]{36}$/m);
  assert.match(await d.ferryOk('pool-list', '--details'), /^ p1 +running +no +yes +\d+\.\d\d GiB/m);
  assert.match(await d.ferryOk('pool-dumpxml', 'p1'), new RegExp(`<path>${target}</path>`));

  assert.equal(
    await d.ferryOk('vol-create-as', 'p1', 'disk.img', '10M'),
    'Vol disk.img created\n\n',
  );
  await d.ferryOk('vol-create-as', 'p1', 'base.qcow2', '1G', '--format', 'qcow2');
  await d.ferryOk(
    'vol-create-as',
    'p1',
    'top.qcow2',
    '1GiB',
    '--format',
    'qcow2',
    '--backing-vol',
    'base.qcow2',
    '--backing-vol-format',
    'qcow2',
  );
  const raw = await imageInfo(join(target, 'disk.img'));
  assert.equal(raw['format'], 'raw');
  assert.equal(raw['virtual-size'], 10 * 1024 * 1024);
  const top = await imageInfo(join(target, 'top.qcow2'));
  assert.equal(top['format'], 'qcow2');
  assert.equal(top['virtual-size'], 1024 ** 3);
  assert.equal(top['full-backing-filename'], join(target, 'base.qcow2'));

  assert.equal(
    await d.ferryOk('vol-list', 'p1'),
    formatRows(
      ['Name', 'Path'],
      [
        ['base.qcow2', join(target, 'base.qcow2')],
        ['disk.img', join(target, 'disk.img')],
        ['top.qcow2', join(target, 'top.qcow2')],
      ],
    ),
  );
  assert.match(
    await d.ferryOk('vol-list', 'p1', '--details'),
    /^ disk\.img +\S+ +file +10\.00 MiB +\S+ \S+$/m,
  );
  assert.match(
    await d.ferryOk('vol-info', 'top.qcow2', '--pool', 'p1'),
    /^Name: +top\.qcow2\nType: +file\nCapacity: +1\.00 GiB\nAllocation: +\d/,
  );
  // By path alone, as virsh allows.
  assert.match(await d.ferryOk('vol-info', join(target, 'disk.img')), /^Capacity: +10\.00 MiB$/m);
  assert.equal(
    await d.ferryOk('vol-path', 'disk.img', '--pool', 'p1'),
    `${join(target, 'disk.img')}\n\n`,
  );
  assert.match(
    await d.ferryOk('vol-dumpxml', '--pool', 'p1', 'top.qcow2'),
    /<backingStore>\n {4}<path>[^<]*base\.qcow2<\/path>\n {4}<format type='qcow2'\/>/,
  );

  assert.equal(
    await d.ferryOk('vol-delete', 'top.qcow2', '--pool', 'p1'),
    'Vol top.qcow2 deleted\n\n',
  );
  assert.equal(existsSync(join(target, 'top.qcow2')), false);
  assert.equal(await d.ferryOk('pool-refresh', 'p1'), 'Pool p1 refreshed\n\n');
  assert.doesNotMatch(await d.ferryOk('vol-list', 'p1'), /top\.qcow2/);

  assert.equal(
    (await d.ferry('pool-undefine', 'p1')).stderr,
    "error: Failed to undefine pool p1\nerror: Requested operation is not valid: storage pool 'p1' is still active\n",
  );
  assert.equal(await d.ferryOk('pool-destroy', 'p1'), 'Pool p1 destroyed\n\n');
  assert.equal(
    (await d.ferry('vol-list', 'p1')).stderr,
    "error: Failed to list volumes\nerror: Requested operation is not valid: storage pool 'p1' is not active\n",
  );
  assert.equal(await d.ferryOk('pool-undefine', 'p1'), 'Pool p1 has been undefined\n\n');
  assert.equal(
    await d.ferryOk('pool-list', '--all'),
    ' Name   State   Autostart\n---------------------------\n\n',
  );
  assert.ok(existsSync(join(target, 'disk.img')), 'destroy and undefine delete no volume');
});

/** virsh's table for plain rows (the CLI's own formatter is checked against virsh in unit tests). */
function formatRows(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    ' ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ');
  const head = ' ' + header.map((h, i) => h.padEnd(widths[i] ?? 0)).join('   ');
  return [line(header), '-'.repeat(head.length + 2), ...rows.map(line), ''].join('\n') + '\n';
}

void test('bad input to the pool and volume commands says why and changes nothing', async (t) => {
  const d = await startDaemon(t);
  const target = join(d.dir, 'images');
  await d.ferryOk('pool-define-as', 'p1', 'dir', '--target', target);
  await d.ferryOk('pool-start', 'p1', '--build');
  await d.ferryOk('vol-create-as', 'p1', 'disk.img', '1M');
  const before = await snapshot(d, target);

  const cases: [string[], string][] = [
    [
      ['pool-define-as', 'p2', 'bogus', '--target', join(d.dir, 'x')],
      "error: Failed to define pool p2\nerror: XML error: Invalid value for attribute 'type' in element 'pool': 'bogus'.\n",
    ],
    [
      ['pool-define-as', 'p2', 'dir'],
      'error: Failed to define pool p2\nerror: XML error: missing storage pool target path\n',
    ],
    [
      ['pool-define-as', 'p2', 'dir', '--target', target],
      "error: Failed to define pool p2\nerror: operation failed: Storage source conflict with pool: 'p1'\n",
    ],
    [
      ['pool-info', 'nope'],
      "error: failed to get pool 'nope'\nerror: Storage pool not found: no storage pool with matching name 'nope'\n",
    ],
    [
      ['pool-start', 'nope'],
      "error: failed to get pool 'nope'\nerror: Storage pool not found: no storage pool with matching name 'nope'\n",
    ],
    [
      ['vol-create-as', 'nope', 'x', '1M'],
      "error: failed to get pool 'nope'\nerror: Storage pool not found: no storage pool with matching name 'nope'\n",
    ],
    [
      ['vol-create-as', 'p1', 'x', '10Q'],
      "error: Malformed size 10Q\nerror: invalid argument: unknown suffix 'Q'\n",
    ],
    [['vol-create-as', 'p1', 'x', 'abc'], 'error: Malformed size abc\n'],
    [
      ['vol-create-as', 'p1', 'disk.img', '1M'],
      "error: Failed to create vol disk.img\nerror: storage volume 'disk.img' exists already\n",
    ],
    [
      ['vol-create-as', 'p1', '../x', '1M'],
      "error: Failed to create vol ../x\nerror: Requested operation is not valid: volume name '../x' cannot contain '/'\n",
    ],
    [
      ['vol-create-as', 'p1', '.hidden', '1M'],
      "error: Failed to create vol .hidden\nerror: Requested operation is not valid: volume name '.hidden' cannot start with '.'\n",
    ],
    [
      ['vol-create-as', 'p1', 'o.qcow2', '1M', '--format', 'qcow2', '--backing-vol', 'nope'],
      "error: failed to get vol 'nope'\nerror: Storage volume not found: no storage vol with matching path 'nope'\n",
    ],
    [
      ['vol-info', 'nope', '--pool', 'p1'],
      "error: failed to get vol 'nope'\nerror: Storage volume not found: no storage vol with matching path 'nope'\n",
    ],
    [
      ['vol-delete', '/etc/passwd'],
      "error: failed to get vol '/etc/passwd', specifying --pool might help\nerror: Storage volume not found: no storage vol with matching path '/etc/passwd'\n",
    ],
    [
      ['vol-delete', '--pool', 'p1', '../../../etc/passwd'],
      "error: failed to get vol '../../../etc/passwd'\nerror: Storage volume not found: no storage vol with matching path '../../../etc/passwd'\n",
    ],
    [
      ['pool-start', 'p1'],
      "error: Failed to start pool p1\nerror: Requested operation is not valid: storage pool 'p1' is already active\n",
    ],
    [
      ['pool-export', 'p1', '--port', '99999'],
      "error: Numeric value '99999' for <port> option is malformed or out of range\n",
    ],
  ];
  for (const [args, stderr] of cases) {
    const r = await d.ferry(...args);
    assert.equal(r.code, 1, `ferry ${args.join(' ')} fails`);
    assert.equal(r.stderr, stderr, `ferry ${args.join(' ')}`);
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(await snapshot(d, target), before, 'nothing changed');
});

void test('pools outlive a ferryd restart: active ones stay active, autostart ones start', async (t) => {
  const d = await startDaemon(t);
  await d.ferryOk('pool-define-as', 'kept', 'dir', '--target', join(d.dir, 'kept'));
  await d.ferryOk('pool-start', 'kept', '--build');
  await d.ferryOk('pool-define-as', 'auto', 'dir', '--target', join(d.dir, 'auto'));
  await d.ferryOk('pool-build', 'auto');
  assert.equal(await d.ferryOk('pool-autostart', 'auto'), 'Pool auto marked as autostarted\n\n');
  await d.ferryOk('pool-define-as', 'idle', 'dir', '--target', join(d.dir, 'idle'));
  await d.ferryOk('pool-create-as', 'temp', 'dir', '--target', join(d.dir, 'temp'), '--build');
  assert.match(await d.ferryOk('pool-info', 'temp'), /^Persistent: +no$/m);

  await d.stop();
  await d.restart();
  assert.equal(
    await d.ferryOk('pool-list', '--all'),
    ' Name   State      Autostart\n' +
      '------------------------------\n' +
      ' auto   active     yes\n' +
      ' idle   inactive   no\n' +
      ' kept   active     no\n' +
      ' temp   active     no\n\n',
  );
  // A transient pool goes when it stops.
  await d.ferryOk('pool-destroy', 'temp');
  assert.doesNotMatch(await d.ferryOk('pool-list', '--all'), /temp/);
  assert.equal(
    await d.ferryOk('pool-autostart', 'auto', '--disable'),
    'Pool auto unmarked as autostarted\n\n',
  );
});
