import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkExportDir, checkNfsOptions, ganeshaConfigText, nfsServerArgv } from './nfs.js';

test('checkExportDir takes absolute plain paths outside the special file systems', () => {
  for (const ok of ['/srv/nfs', '/export', '/var/lib/images-1', '/a/b.c_d'])
    assert.equal(checkExportDir(ok), ok);
  for (const bad of [
    'srv',
    '/',
    '/srv/',
    '/srv/../etc',
    '/srv/a b',
    '/srv/"x"',
    '/tmp/x',
    '/run',
    '/proc/1',
    '/dev/shm',
  ])
    assert.throws(() => checkExportDir(bad), { code: 'INVALID_ARG' }, bad);
});

test('checkNfsOptions names a testbed host and needs namespace hosts', () => {
  assert.throws(() => checkNfsOptions({ host: 'zz' }, ['a', 'b'], true), /not a testbed host/);
  assert.throws(() => checkNfsOptions({ host: 'a' }, ['a', 'b'], false), { code: 'NO_SUPPORT' });
});

test('ganesha.conf exports the directory read-write to root over NFSv3 and v4, without grace', () => {
  const conf = ganeshaConfigText('/srv/nfs');
  assert.match(conf, /Path = \/srv\/nfs;/);
  assert.match(conf, /Pseudo = \/srv\/nfs;/);
  assert.match(conf, /Access_Type = RW;/);
  assert.match(conf, /Squash = No_Root_Squash;/);
  assert.match(conf, /Protocols = 3, 4;/);
  assert.match(conf, /Graceless = true;/);
  assert.match(conf, /Name = VFS;/);
});

test('the server runs in a mount namespace of its own with a private /run', () => {
  const argv = nfsServerArgv();
  assert.deepEqual(argv.slice(0, 4), ['unshare', '--mount', '--propagation', 'private']);
  const script = argv[argv.indexOf('-c') + 1] ?? '';
  assert.match(script, /mount -t tmpfs .* \/run\n/);
  assert.match(script, /exec \/usr\/bin\/ganesha\.nfsd -F /);
});
