import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOMParser } from '@xmldom/xmldom';
import { summarizeDomainXml, type XmlElement } from './domain-xml.js';

function parse(xml: string): XmlElement {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  if (doc.documentElement === null) throw new Error('no root');
  return doc.documentElement;
}

test('reads the machine, CPU and each disk', () => {
  const s = summarizeDomainXml(
    parse(`<domain type='qemu'><name>vm1</name>
      <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
      <cpu mode='host-model'/>
      <devices>
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
          <source file='/var/lib/ferry/images/vm1.qcow2'/><target dev='vda' bus='virtio'/></disk>
        <disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>
      </devices></domain>`),
  );
  assert.equal(s.machine, 'pc-i440fx-7.2');
  assert.equal(s.cpu, 'host-model');
  assert.deepEqual(s.disks, [
    { target: 'vda', source: '/var/lib/ferry/images/vm1.qcow2', format: 'qcow2', bus: 'virtio' },
    { target: 'sda', source: '(no medium)', format: '—', bus: 'sata' },
  ]);
});

test('a custom model names the model; no <cpu> is QEMU default; no disks is an empty table', () => {
  const custom = parse(`<domain><cpu mode='custom'><model>Skylake-Client</model></cpu></domain>`);
  assert.equal(summarizeDomainXml(custom).cpu, 'Skylake-Client');
  const bare = summarizeDomainXml(parse('<domain><devices/></domain>'));
  assert.equal(bare.cpu, 'QEMU default');
  assert.equal(bare.machine, '—');
  assert.deepEqual(bare.disks, []);
});
