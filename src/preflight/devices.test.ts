import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDomainXml } from '../domain/xml/index.js';
import { checkDevices, hostPinnedDevices } from './devices.js';

function domain(devices: string): ReturnType<typeof parseDomainXml>['def'] {
  return parseDomainXml(`<domain type='qemu'><name>g</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${devices}</devices></domain>`).def;
}

test('hostPinnedDevices() names each passthrough device the libvirt way', () => {
  const def = domain(`
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'/></source>
    </hostdev>
    <hostdev mode='subsystem' type='usb'>
      <source><vendor id='0x1234'/><product id='0xbeef'/></source>
    </hostdev>
    <hostdev mode='subsystem' type='usb'><source><address bus='1' device='5'/></source></hostdev>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
      <source><address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source>
    </hostdev>
    <hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>
    <interface type='hostdev' managed='yes'>
      <mac address='52:54:00:6d:90:02'/>
      <source><address type='pci' domain='0x0000' bus='0x3b' slot='0x10' function='0x2'/></source>
    </interface>
    <tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>
    <input type='passthrough' bus='virtio'><source evdev='/dev/input/event1'/></input>
    <memballoon model='virtio'/>`);
  assert.deepEqual(hostPinnedDevices(def), [
    'hostdev pci 0000:3b:00.1',
    'hostdev usb 1234:beef',
    'hostdev usb bus 1 device 5',
    'mdev vGPU uuid c2177883-f1bb-47f0-914d-32a22e3a8804',
    'hostdev capabilities storage /dev/sdf1',
    "interface type='hostdev' (SR-IOV VF) mac 52:54:00:6d:90:02 pci 0000:3b:10.2",
    'tpm passthrough /dev/tpm0',
    'input passthrough /dev/input/event1',
  ]);
  const v = checkDevices(def);
  assert.equal(v.verdict, 'fail');
  assert.match(
    v.reason,
    /^hostdev pci 0000:3b:00\.1, .*: these devices exist only on the source host$/,
  );
});

test('checkDevices() passes a guest of emulated devices only', () => {
  const def = domain(
    `<interface type='user'><model type='virtio'/></interface><memballoon model='virtio'/>`,
  );
  assert.deepEqual(checkDevices(def), {
    verdict: 'pass',
    reason: 'no host devices (passthrough, vGPU, SR-IOV) pin the guest',
  });
});

test("<interface type='hostdev'> is kept verbatim among the interfaces on dumpxml", async () => {
  const { formatDomainXml } = await import('../domain/xml/index.js');
  const def = domain(
    `<interface type='user'/><interface type='hostdev'><mac address='52:54:00:00:00:01'/></interface><serial type='pty'/>`,
  );
  const xml = formatDomainXml(def);
  assert.ok(xml.indexOf("<interface type='hostdev'>") < xml.indexOf('<serial'), xml);
  assert.equal(def.devices.interfaces.length, 1);
  assert.equal(def.devices.hostdevs[0]?.element, 'interface');
});
