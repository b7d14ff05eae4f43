/**
 * netfs pools through ferryd and the ferry CLI: a testbed host ("storage") runs the userspace
 * NFS server; hosts a and b define the same export as a netfs pool (nothing mounted: ferryd
 * reaches it through libnfs), create, list, inspect and delete volumes, see each other's
 * volumes after pool-refresh, and resolve a guest's `<source pool= volume=/>` to an nfs
 * network source. Bad input (a host with no NFS server, a name that does not resolve, a
 * path the server does not export, a port) changes nothing. Boots no guest. Root only.
 * @module
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { REPO } from '../helpers/guest.js';
import { useTestbed, type TestbedHost } from '../helpers/testbed.js';

const asRoot = process.getuid?.() === 0;
const rootOnly = asRoot ? {} : { skip: 'needs root (network namespaces)' };
const RESOLVE = join(REPO, 'test', 'helpers', 'netfs-resolve.ts');

/** A ferry command expected to fail: its stderr. */
async function ferryFails(h: TestbedHost, ...args: string[]): Promise<string> {
  const r = await h.ferry(...args);
  assert.equal(r.code, 1, `ferry ${args.join(' ')} should fail; stdout: ${r.stdout}`);
  return r.stderr;
}

/** The pools a host lists, all of them, as its `pool-list --all` lines. */
async function poolLines(h: TestbedHost): Promise<string> {
  const out = await h.ferryOk('pool-list', '--all');
  return out
    .split('\n')
    .slice(2)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('\n');
}

/** vol-list's volume names. */
async function volNames(h: TestbedHost, pool: string): Promise<string[]> {
  const out = await h.ferryOk('vol-list', pool);
  return out
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

void test(
  'a netfs pool on two hosts: pool and volume commands over NFS, refresh, resolveVolume',
  { ...rootOnly, timeout: 600_000 },
  async (t) => {
    const tb = await useTestbed(t, {
      names: ['storage', 'a', 'b'],
      sshd: false,
      nfs: { host: 'storage' },
    });
    const [a, b] = [tb.host('a'), tb.host('b')];
    const nfs = tb.nfs;
    assert.ok(nfs !== undefined);
    const exp = nfs.exportDir;
    const define = ['netfs', '--source-host', 'storage', '--source-path', exp];
    const target = ['--target', '/var/lib/ferry/nfs'];
    const base = `nfs://storage${exp}`;

    assert.equal(
      await a.ferryOk('pool-define-as', 'shared', ...define, ...target),
      'Pool shared defined\n\n',
    );
    assert.equal(await a.ferryOk('pool-start', 'shared'), 'Pool shared started\n\n');
    const info = await a.ferryOk('pool-info', 'shared');
    assert.match(info, /^State: +running$/m);
    assert.match(info, /^Capacity: +\d/m);
    assert.match(info, new RegExp(`^Source: +${base.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(info, /^Target: +\/var\/lib\/ferry\/nfs \(recorded only, not mounted/m);
    assert.equal(existsSync(join(a.paths.stateDir, 'nfs')), false, 'the target is not made');
    assert.match(
      await a.ferryOk('pool-dumpxml', 'shared'),
      new RegExp(`<host name='storage'/>\\s*<dir path='${exp}'/>\\s*<format type='auto'/>`),
    );
    assert.deepEqual(await volNames(a, 'shared'), []);

    // Volumes made on a: raw, qcow2, and a qcow2 overlay of a volume of the same pool.
    assert.equal(
      await a.ferryOk('vol-create-as', 'shared', 'data.raw', '8M'),
      'Vol data.raw created\n\n',
    );
    await a.ferryOk('vol-create-as', 'shared', 'base.qcow2', '64M', '--format', 'qcow2');
    await a.ferryOk(
      'vol-create-as',
      'shared',
      'vm.qcow2',
      '64M',
      '--format',
      'qcow2',
      '--backing-vol',
      'base.qcow2',
      '--backing-vol-format',
      'qcow2',
    );
    assert.deepEqual(readdirSync(nfs.dir).sort(), ['base.qcow2', 'data.raw', 'vm.qcow2']);
    assert.equal(
      await a.ferryOk('vol-path', 'vm.qcow2', '--pool', 'shared'),
      `${base}/vm.qcow2\n\n`,
    );
    const details = await a.ferryOk('vol-list', 'shared', '--details');
    assert.match(
      details,
      new RegExp(`^ data\\.raw +${base}/data\\.raw +network +8\\.00 MiB `, 'm'),
    );
    assert.match(
      details,
      new RegExp(`^ vm\\.qcow2 +${base}/vm\\.qcow2 +network +64\\.00 MiB `, 'm'),
    );
    assert.match(
      await a.ferryOk('vol-info', 'vm.qcow2', '--pool', 'shared'),
      /^Name: +vm\.qcow2\nType: +network\nCapacity: +64\.00 MiB\n/,
    );
    // By its path (the nfs:// URL) alone, as virsh finds a volume by key or path.
    assert.match(await a.ferryOk('vol-info', `${base}/data.raw`), /^Name: +data\.raw$/m);
    const xml = await a.ferryOk('vol-dumpxml', 'vm.qcow2', '--pool', 'shared');
    assert.match(xml, /<backingStore>\s*<path>[^<]*base\.qcow2<\/path>\s*<format type='qcow2'\/>/);
    // The overlay names its backing file relative to itself: any host finds it next to it.
    const header = readFileSync(join(nfs.dir, 'vm.qcow2')).subarray(0, 4096).toString('latin1');
    assert.ok(header.includes('base.qcow2') && !header.includes('nfs://'), 'relative backing');

    // b defines the same export; it sees a's volumes, and a's new one after pool-refresh.
    await b.ferryOk('pool-define-as', 'shared', ...define, ...target);
    await b.ferryOk('pool-start', 'shared');
    assert.deepEqual(await volNames(b, 'shared'), ['base.qcow2', 'data.raw', 'vm.qcow2']);
    await a.ferryOk('vol-create-as', 'shared', 'late.raw', '4M');
    assert.equal(await b.ferryOk('pool-refresh', 'shared'), 'Pool shared refreshed\n\n');
    assert.deepEqual(await volNames(b, 'shared'), [
      'base.qcow2',
      'data.raw',
      'late.raw',
      'vm.qcow2',
    ]);
    assert.match(
      await b.ferryOk('vol-list', 'shared', '--details'),
      /^ late\.raw +\S+ +network +4\.00 MiB /m,
    );

    // A name in use is refused in a dir pool's words; the volume is left as it was.
    const dup = await ferryFails(b, 'vol-create-as', 'shared', 'vm.qcow2', '1M');
    assert.match(
      dup,
      /^error: Failed to create vol vm\.qcow2\nerror: storage volume 'vm\.qcow2' exists already$/m,
    );
    assert.match(await a.ferryOk('vol-info', 'vm.qcow2', '--pool', 'shared'), /64\.00 MiB/);
    const badName = await ferryFails(b, 'vol-create-as', 'shared', 'bad name', '1M');
    assert.match(badName, /Invalid volume name 'bad name'/);

    // Deleted on b: gone from the server and from a's list; deleting again is "not found".
    assert.equal(
      await b.ferryOk('vol-delete', 'late.raw', '--pool', 'shared'),
      'Vol late.raw deleted\n\n',
    );
    assert.equal(existsSync(join(nfs.dir, 'late.raw')), false);
    assert.deepEqual(await volNames(a, 'shared'), ['base.qcow2', 'data.raw', 'vm.qcow2']);
    const again = await ferryFails(a, 'vol-delete', 'late.raw', '--pool', 'shared');
    assert.equal(
      again,
      "error: failed to get vol 'late.raw'\nerror: Storage volume not found: no storage vol with matching path 'late.raw'\n",
    );
    assert.match(
      await ferryFails(a, 'vol-info', 'nothere.raw', '--pool', 'shared'),
      /^error: failed to get vol 'nothere\.raw'\n/,
    );

    // A guest's <source pool='shared' volume='vm.qcow2'/> resolves to QEMU's nfs source.
    const resolved = await a.exec(['node', '--import', 'tsx', RESOLVE, 'shared', 'vm.qcow2'], {
      cwd: REPO,
      timeoutMs: 120_000,
    });
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.deepEqual(JSON.parse(resolved.stdout), {
      pool: 'shared',
      volume: 'vm.qcow2',
      source: { type: 'network', protocol: 'nfs', host: 'storage', name: `${exp}/vm.qcow2` },
      format: 'qcow2',
      capacity: 64 * 1024 * 1024,
    });
    const missing = await a.exec(['node', '--import', 'tsx', RESOLVE, 'shared', 'gone.qcow2'], {
      cwd: REPO,
      timeoutMs: 120_000,
    });
    assert.match(
      missing.stderr,
      /^error: NO_STORAGE_VOL Storage volume not found: no storage vol with matching name 'gone\.qcow2'$/m,
    );

    // The same export twice on one host is a source conflict; nothing is defined.
    assert.match(
      await ferryFails(a, 'pool-define-as', 'again', ...define, '--target', '/var/lib/ferry/x'),
      /Storage source conflict with pool: 'shared'/,
    );

    // Stopped and forgotten: the volumes stay on the server.
    await a.ferryOk('pool-destroy', 'shared');
    await a.ferryOk('pool-undefine', 'shared');
    assert.equal(await poolLines(a), '');
    assert.deepEqual(readdirSync(nfs.dir).sort(), ['base.qcow2', 'data.raw', 'vm.qcow2']);
  },
);

void test(
  'netfs pool bad input: no NFS server, unknown host, missing export path, a port; nothing changes',
  { ...rootOnly, timeout: 600_000 },
  async (t) => {
    const tb = await useTestbed(t, {
      names: ['storage', 'a'],
      sshd: false,
      nfs: { host: 'storage' },
    });
    const a = tb.host('a');
    const nfs = tb.nfs;
    assert.ok(nfs !== undefined);
    const before = readdirSync(nfs.dir);

    // Defined (a definition only), but pool-start says which host and path fail; still inactive.
    const starts = [
      ['noserver', 'a', nfs.exportDir, /cannot reach NFS server 'a' for export path '\/srv\/nfs'/],
      [
        'nohost',
        'nosuchhost.invalid',
        nfs.exportDir,
        /cannot reach NFS server 'nosuchhost\.invalid' for export path/,
      ],
      [
        'nopath',
        'storage',
        '/srv/missing',
        /NFS server 'storage' does not export '\/srv\/missing'/,
      ],
    ] as const;
    for (const [name, host, path, why] of starts) {
      await a.ferryOk(
        'pool-define-as',
        name,
        'netfs',
        '--source-host',
        host,
        '--source-path',
        path,
        '--target',
        `/var/lib/ferry/${name}`,
      );
      const err = await ferryFails(a, 'pool-start', name);
      t.diagnostic(`pool-start ${name}: ${err}`);
      assert.match(err, new RegExp(`^error: Failed to start pool ${name}\\n`), err);
      assert.match(err, why);
      assert.match(await a.ferryOk('pool-info', name), /^State: +inactive$/m);
      const created = await ferryFails(a, 'vol-create-as', name, 'x.raw', '1M');
      assert.match(created, new RegExp(`storage pool '${name}' is not active`));
    }
    assert.match(
      await poolLines(a),
      /^nohost +inactive +no\nnopath +inactive +no\nnoserver +inactive +no$/,
    );

    // Refused before anything is defined: a port, another protocol, a relative path.
    for (const [args, why] of [
      [['--source-host', 'storage:2049', '--source-path', nfs.exportDir], /no port can be given/],
      [
        ['--source-host', 'storage', '--source-path', nfs.exportDir, '--source-format', 'cifs'],
        /source format 'cifs'/,
      ],
      [
        ['--source-host', 'storage', '--source-path', 'srv/nfs'],
        /Invalid NFS export path 'srv\/nfs'/,
      ],
      [['--source-path', nfs.exportDir], /missing storage pool source host name/],
    ] as const) {
      const err = await ferryFails(
        a,
        'pool-define-as',
        'bad',
        'netfs',
        ...args,
        '--target',
        '/var/lib/ferry/bad',
      );
      assert.match(err, why);
    }
    assert.doesNotMatch(await poolLines(a), /bad/);
    assert.equal(existsSync(join(a.paths.stateDir, 'storage', 'bad.xml')), false);
    assert.deepEqual(readdirSync(nfs.dir), before, 'nothing appeared on the server');
  },
);
