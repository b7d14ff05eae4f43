import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseNbdList } from './nbd-list.js';
import { parseImageInfo } from './qemu-img.js';

/** `qemu-nbd --list` (QEMU 7.2) against a pool exported by ferry pool-export. */
const QEMU_NBD_LIST = `exports available: 2
 export: 'a.img'
  description: ferry-volume pool=51e478d8-5ef4-4b23-b1d0-cac6b2d964d1 volume=a.img
  size:  10485760
  flags: 0xded ( flush fua trim zeroes df multi cache fast-zero )
  min block: 1
  opt block: 4096
  max block: 33554432
  available meta contexts: 1
   base:allocation
 export: 'b.qcow2'
  size:  1073741824
  flags: 0xded ( flush fua trim zeroes df multi cache fast-zero )
  min block: 1
  opt block: 4096
  max block: 33554432
  available meta contexts: 1
   base:allocation
`;

void test('parseNbdList() reads names, descriptions and sizes from qemu-nbd --list', () => {
  assert.deepEqual(parseNbdList(QEMU_NBD_LIST), [
    {
      name: 'a.img',
      description: 'ferry-volume pool=51e478d8-5ef4-4b23-b1d0-cac6b2d964d1 volume=a.img',
      size: 10485760,
    },
    { name: 'b.qcow2', description: undefined, size: 1073741824 },
  ]);
  assert.deepEqual(parseNbdList('exports available: 0\n'), []);
});

/** `qemu-img info -U --output=json` (QEMU 7.2) of a qcow2 overlay. */
const OVERLAY_INFO = `{
    "backing-filename-format": "qcow2",
    "virtual-size": 1073741824,
    "filename": "/tmp/qsdt/ov.qcow2",
    "cluster-size": 65536,
    "format": "qcow2",
    "actual-size": 200704,
    "full-backing-filename": "/tmp/qsdt/base.qcow2",
    "backing-filename": "/tmp/qsdt/base.qcow2",
    "dirty-flag": false
}`;

void test('parseImageInfo() reads format, virtual size and backing file', () => {
  assert.deepEqual(parseImageInfo(OVERLAY_INFO), {
    format: 'qcow2',
    virtualSize: 1073741824,
    actualSize: 200704,
    backing: { path: '/tmp/qsdt/base.qcow2', format: 'qcow2' },
  });
  assert.deepEqual(parseImageInfo('{"format":"raw","virtual-size":100}'), {
    format: 'raw',
    virtualSize: 100,
  });
});
