import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FerryError } from '../common/errors.js';
import { NetfsBackend } from './netfs-backend.js';
import { backendFor, poolDefOf, sourceKey } from './pool-types.js';

const req = {
  name: 'shared',
  type: 'netfs',
  sourceHost: 'storage',
  sourcePath: '/srv/nfs',
  target: '/var/lib/ferry/nfs',
};

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FerryError, String(err));
    return `${err.code} ${err.message}`;
  }
  return 'no error';
};

void test('pool-define-as netfs: a host, an absolute path, no port, NFS only', () => {
  const def = poolDefOf(req);
  assert.deepEqual(def.source, { host: { name: 'storage' }, dir: '/srv/nfs' });
  assert.ok(backendFor(def) instanceof NetfsBackend);
  assert.match(
    code(() => poolDefOf({ ...req, sourceHost: 'storage:2049' })),
    /^CONFIG_UNSUPPORTED .*no port can be given/,
  );
  assert.match(
    code(() => poolDefOf({ ...req, sourceFormat: 'glusterfs' })),
    /^CONFIG_UNSUPPORTED .*'glusterfs'/,
  );
  assert.equal(poolDefOf({ ...req, sourceFormat: 'nfs' }).source.format, 'nfs');
  assert.match(
    code(() => poolDefOf({ ...req, sourcePath: 'srv/nfs' })),
    /^INVALID_ARG Invalid NFS export path/,
  );
  assert.match(
    code(() => poolDefOf({ ...req, sourcePath: '/srv/../etc' })),
    /^INVALID_ARG/,
  );
  assert.match(
    code(() => poolDefOf({ ...req, sourceHost: 'a b' })),
    /^INVALID_ARG/,
  );
  assert.match(
    code(() => poolDefOf({ ...req, sourcePath: undefined })),
    /missing storage pool source path/,
  );
  assert.match(
    code(() => poolDefOf({ ...req, target: undefined })),
    /missing storage pool target path/,
  );
});

void test('two netfs pools conflict on the same export, whatever their targets', () => {
  const one = poolDefOf(req);
  assert.equal(sourceKey(one), sourceKey(poolDefOf({ ...req, name: 'x', target: '/other' })));
  assert.notEqual(sourceKey(one), sourceKey(poolDefOf({ ...req, sourcePath: '/srv/nfs/sub' })));
  // A dir pool on the netfs pool's (unused) target does not conflict with it.
  const dir = poolDefOf({ name: 'd', type: 'dir', target: '/var/lib/ferry/nfs' });
  assert.notEqual(sourceKey(one), sourceKey(dir));
});

void test('a netfs volume is a network source QEMU opens with its nfs driver', () => {
  const backend = new NetfsBackend(poolDefOf(req));
  const vol = {
    name: 'vm.qcow2',
    key: 'nfs://storage/srv/nfs/vm.qcow2',
    path: 'nfs://storage/srv/nfs/vm.qcow2',
    type: 'network' as const,
    format: 'qcow2',
    capacity: 1,
    allocation: 1,
  };
  assert.deepEqual(backend.source(vol), {
    type: 'network',
    protocol: 'nfs',
    host: 'storage',
    name: '/srv/nfs/vm.qcow2',
  });
});

void test('names no NFS volume can have are not volumes; a backing volume must be in the pool', async () => {
  const backend = new NetfsBackend(poolDefOf(req));
  // Answered without asking the server.
  assert.equal(await backend.volume('nfs://storage/srv/nfs/x'), undefined);
  assert.equal(await backend.volume('.hidden'), undefined);
  await assert.rejects(
    backend.createVolume({
      name: 'o.qcow2',
      capacity: 1 << 20,
      format: 'qcow2',
      backing: { path: 'nfs://elsewhere/srv/nfs/base.qcow2', format: 'qcow2' },
    }),
    /is not in pool 'shared' \(nfs:\/\/storage\/srv\/nfs\)/,
  );
});
