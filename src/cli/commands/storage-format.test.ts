import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { PoolSummary, Volume } from '../../rpc/schema/storage.js';
import { formatKeyValues } from '../format/table.js';
import { formatPoolList, poolInfoPairs } from './storage-pools.js';
import { formatVolumeList, volumeInfoPairs } from './storage-volumes.js';

// Expected texts are virsh 9.0's, captured for the same pools (test/data/virsh/storage-dir-pool.txt).

const running: PoolSummary = {
  name: 'p1',
  uuid: '21769ff9-3c9c-4e9c-8b55-fad3741afc74',
  type: 'dir',
  active: true,
  persistent: true,
  autostart: false,
  capacity: 270553174016,
  allocation: 24494514176,
  available: 246058659840,
  exported: null,
};
const inactive: PoolSummary = {
  ...running,
  name: 'p4',
  active: false,
  capacity: null,
  allocation: null,
  available: null,
};

void test('pool-list and pool-list --details lay out as virsh', () => {
  assert.equal(
    formatPoolList([{ ...running, name: 'p3', persistent: false }, inactive], false),
    ' Name   State      Autostart\n' +
      '------------------------------\n' +
      ' p3     active     no\n' +
      ' p4     inactive   no\n\n',
  );
  assert.equal(
    formatPoolList([running], true),
    ' Name   State     Autostart   Persistent   Capacity     Allocation   Available\n' +
      '---------------------------------------------------------------------------------\n' +
      ' p1     running   no          yes          251.97 GiB   22.81 GiB    229.16 GiB\n\n',
  );
  assert.equal(
    formatPoolList([{ ...inactive, name: 'p1' }], true),
    ' Name   State      Autostart   Persistent   Capacity   Allocation   Available\n' +
      '-------------------------------------------------------------------------------\n' +
      ' p1     inactive   no          yes          -          -            -\n\n',
  );
  assert.equal(
    formatPoolList([], false),
    ' Name   State   Autostart\n---------------------------\n\n',
  );
});

void test('pool-info lays out as virsh, sizes only while running, Exported only when exported', () => {
  assert.equal(
    formatKeyValues(poolInfoPairs(running)),
    'Name:           p1\n' +
      'UUID:           21769ff9-3c9c-4e9c-8b55-fad3741afc74\n' +
      'State:          running\n' +
      'Persistent:     yes\n' +
      'Autostart:      no\n' +
      'Capacity:       251.97 GiB\n' +
      'Allocation:     22.81 GiB\n' +
      'Available:      229.16 GiB\n\n',
  );
  assert.equal(
    formatKeyValues(poolInfoPairs({ ...inactive, name: 'p1' })),
    'Name:           p1\n' +
      'UUID:           21769ff9-3c9c-4e9c-8b55-fad3741afc74\n' +
      'State:          inactive\n' +
      'Persistent:     yes\n' +
      'Autostart:      no\n\n',
  );
  assert.deepEqual(poolInfoPairs({ ...running, exported: 'nbd://storage:10809' }).at(-1), [
    'Exported',
    'nbd://storage:10809',
  ]);
  const netfs = { source: 'nfs://storage/srv/nfs', target: '/var/lib/ferry/nfs' };
  assert.deepEqual(poolInfoPairs({ ...running, type: 'netfs', netfs }).slice(-2), [
    ['Source', 'nfs://storage/srv/nfs'],
    ['Target', '/var/lib/ferry/nfs (recorded only, not mounted: volumes are opened over NFS)'],
  ]);
});

const vol = (name: string, capacity: number, allocation: number): Volume => ({
  pool: 'p1',
  name,
  key: `/tmp/pools-lv/p1/${name}`,
  path: `/tmp/pools-lv/p1/${name}`,
  type: 'file',
  format: 'raw',
  capacity,
  allocation,
  backing: null,
  description: null,
});

void test('vol-list, vol-list --details and vol-info lay out as virsh', () => {
  const vols = [
    vol('a.img', 10485760, 10485760),
    vol('b.qcow2', 1073741824, 200704),
    vol('c.qcow2', 1073741824, 200704),
  ];
  assert.equal(
    formatVolumeList(vols, false),
    ' Name      Path\n' +
      '-------------------------------------\n' +
      ' a.img     /tmp/pools-lv/p1/a.img\n' +
      ' b.qcow2   /tmp/pools-lv/p1/b.qcow2\n' +
      ' c.qcow2   /tmp/pools-lv/p1/c.qcow2\n\n',
  );
  assert.equal(
    formatVolumeList(vols, true),
    ' Name      Path                       Type   Capacity    Allocation\n' +
      '---------------------------------------------------------------------\n' +
      ' a.img     /tmp/pools-lv/p1/a.img     file   10.00 MiB   10.00 MiB\n' +
      ' b.qcow2   /tmp/pools-lv/p1/b.qcow2   file   1.00 GiB    196.00 KiB\n' +
      ' c.qcow2   /tmp/pools-lv/p1/c.qcow2   file   1.00 GiB    196.00 KiB\n\n',
  );
  assert.equal(
    formatKeyValues(volumeInfoPairs(vols[1] ?? assert.fail())),
    'Name:           b.qcow2\nType:           file\nCapacity:       1.00 GiB\nAllocation:     196.00 KiB\n\n',
  );
});
