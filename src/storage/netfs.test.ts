import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  checkVolumeName,
  nfsUrl,
  parseNfsLs,
  parseNfsLsSummary,
  parseNfsUrl,
  volumeFromInfo,
  volumeSource,
} from './netfs.js';

const loc = { host: 'storage', exportPath: '/srv/nfs' };

test('nfsUrl builds the URL QEMU and libnfs open; IPv6 hosts in brackets', () => {
  assert.equal(nfsUrl(loc), 'nfs://storage/srv/nfs');
  assert.equal(nfsUrl(loc, 'vm.qcow2'), 'nfs://storage/srv/nfs/vm.qcow2');
  assert.equal(nfsUrl({ host: '10.77.1.11', exportPath: '/a/b' }, 'x'), 'nfs://10.77.1.11/a/b/x');
  assert.equal(nfsUrl({ host: 'fd00::1', exportPath: '/e' }, 'x'), 'nfs://[fd00::1]/e/x');
  assert.equal(nfsUrl({ host: '[fd00::1]', exportPath: '/e' }), 'nfs://[fd00::1]/e');
});

test('parseNfsUrl splits host and path and is the inverse of nfsUrl', () => {
  assert.deepEqual(parseNfsUrl('nfs://storage/srv/nfs/vm.qcow2'), {
    host: 'storage',
    path: '/srv/nfs/vm.qcow2',
  });
  assert.deepEqual(parseNfsUrl('nfs://[fd00::1]/e/x'), { host: 'fd00::1', path: '/e/x' });
  for (const name of ['a', 'vm-1.qcow2', 'disk_2.raw', 'x+y'])
    assert.equal(parseNfsUrl(nfsUrl(loc, name)).path, `/srv/nfs/${name}`);
});

test('bad URLs, locations and names are refused with INVALID_ARG', () => {
  for (const url of [
    'nbd://storage/srv/nfs',
    'nfs://storage:2049/srv/nfs', // QEMU 7.2 ignores a port: refuse rather than mislead
    'nfs://storage/srv/nfs?uid=0',
    'nfs://root@storage/srv',
    'nfs://storage',
    'nfs://storage/srv/../etc',
    'nfs:///srv/nfs',
  ])
    assert.throws(() => parseNfsUrl(url), { code: 'INVALID_ARG' }, url);
  for (const bad of [
    { host: 'stor age', exportPath: '/srv' },
    { host: '-x', exportPath: '/srv' },
    { host: 'storage', exportPath: 'srv/nfs' },
    { host: 'storage', exportPath: '/srv/nfs/' },
    { host: 'storage', exportPath: '/srv/./nfs' },
    { host: 'storage', exportPath: '/srv/nfs;rm' },
    { host: 'storage', exportPath: '/' },
  ])
    assert.throws(() => nfsUrl(bad), { code: 'INVALID_ARG' }, JSON.stringify(bad));
  for (const name of ['', '.', '..', '.hidden', 'a/b', 'a b', '-rf', 'x'.repeat(256), 'ä'])
    assert.throws(() => checkVolumeName(name), { code: 'INVALID_ARG' }, name);
});

test('volumeSource is the nfs member of the storage VolumeSource contract', () => {
  assert.deepEqual(volumeSource(loc, 'vm.qcow2'), {
    type: 'network',
    protocol: 'nfs',
    host: 'storage',
    name: '/srv/nfs/vm.qcow2',
  });
  assert.throws(() => volumeSource(loc, '../x'), { code: 'INVALID_ARG' });
});

test('parseNfsLs reads nfs-ls lines (recorded from libnfs-utils 4.0) and skips the rest', () => {
  const text = [
    '-rw-------  1     0     0      1048576 p.raw',
    'drwxr-xr-x  2     0     0         4096 sub',
    '-rw-r--r--  1  1000  1000  68719476736 big image.qcow2',
    'lrwxrwxrwx  1     0     0            7 link',
    '',
    'garbage',
  ].join('\n');
  assert.deepEqual(parseNfsLs(text), [
    { kind: 'file', size: 1048576, name: 'p.raw' },
    { kind: 'directory', size: 4096, name: 'sub' },
    { kind: 'file', size: 68719476736, name: 'big image.qcow2' },
    { kind: 'other', size: 7, name: 'link' },
  ]);
});

test('parseNfsLsSummary gives pool-info sizes; an unexpected summary is an error', () => {
  assert.deepEqual(parseNfsLsSummary('\n245343109120 of 270553174016 bytes free.\n'), {
    capacity: 270553174016,
    allocation: 270553174016 - 245343109120,
    available: 245343109120,
  });
  assert.throws(() => parseNfsLsSummary('Failed to mount nfs share'), { code: 'SYSTEM_ERROR' });
});

test('volumeFromInfo reads qemu-img info --output=json (recorded over nfs://)', () => {
  const qcow2 = `{
    "virtual-size": 33554432, "filename": "nfs://10.77.1.11/srv/nfs/v1.qcow2",
    "cluster-size": 65536, "format": "qcow2", "actual-size": 200704, "dirty-flag": false,
    "backing-filename": "base.qcow2", "full-backing-filename": "nfs://10.77.1.11/srv/nfs/base.qcow2",
    "backing-filename-format": "qcow2"
  }`;
  const l = { host: '10.77.1.11', exportPath: '/srv/nfs' };
  assert.deepEqual(volumeFromInfo(l, 'v1.qcow2', qcow2), {
    name: 'v1.qcow2',
    key: 'nfs://10.77.1.11/srv/nfs/v1.qcow2',
    path: 'nfs://10.77.1.11/srv/nfs/v1.qcow2',
    type: 'network',
    format: 'qcow2',
    capacity: 33554432,
    allocation: 200704,
    backing: { path: 'nfs://10.77.1.11/srv/nfs/base.qcow2', format: 'qcow2' },
  });
  const raw =
    '{"virtual-size": 1048576, "filename": "nfs://h/e/p.raw", "format": "raw", "actual-size": 0}';
  const v = volumeFromInfo({ host: 'h', exportPath: '/e' }, 'p.raw', raw);
  assert.equal(v.format, 'raw');
  assert.equal(v.allocation, 0);
  assert.equal(v.backing, undefined);
});
