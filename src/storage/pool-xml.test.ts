import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FerryError } from '../common/errors.js';
import { formatPoolXml, parsePoolXml } from './pool-xml.js';

/** As libvirt 9.0 wrote it to /etc/libvirt/storage/p6.xml (pool-define-as p6 dir --target …). */
const LIBVIRT_DIR_POOL = `<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
  virsh pool-edit p6
or other application using the libvirt API.
-->

<pool type='dir'>
  <name>p6</name>
  <uuid>287d4c57-1258-45cb-a33d-daa0b07968f7</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
  </source>
  <target>
    <path>/tmp/pools-lv/p6</path>
  </target>
</pool>
`;

/** virsh pool-dumpxml of an inactive netfs pool (pool-define-as p4 netfs example.com /export). */
const LIBVIRT_NETFS_POOL = `<pool type='netfs'>
  <name>p4</name>
  <uuid>430f10b7-7a2f-41f2-b716-eaec084bb643</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
    <host name='example.com'/>
    <dir path='/export'/>
    <format type='auto'/>
  </source>
  <target>
    <path>/tmp/pools-lv/p4</path>
  </target>
</pool>
`;

/** virsh pool-dumpxml of the active dir pool p1. */
const LIBVIRT_ACTIVE_DIR_POOL = `<pool type='dir'>
  <name>p1</name>
  <uuid>21769ff9-3c9c-4e9c-8b55-fad3741afc74</uuid>
  <capacity unit='bytes'>270553174016</capacity>
  <allocation unit='bytes'>24494514176</allocation>
  <available unit='bytes'>246058659840</available>
  <source>
  </source>
  <target>
    <path>/tmp/pools-lv/p1</path>
    <permissions>
      <mode>0711</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
  </target>
</pool>
`;

void test("parsePoolXml() reads libvirt's own file and formatPoolXml() writes what virsh shows", () => {
  const def = parsePoolXml(LIBVIRT_DIR_POOL);
  assert.deepEqual(def, {
    type: 'dir',
    name: 'p6',
    uuid: '287d4c57-1258-45cb-a33d-daa0b07968f7',
    source: {},
    target: '/tmp/pools-lv/p6',
  });
  assert.equal(formatPoolXml(def), LIBVIRT_DIR_POOL.slice(LIBVIRT_DIR_POOL.indexOf('<pool')));
});

void test('formatPoolXml() round-trips a netfs pool byte for byte', () => {
  assert.equal(formatPoolXml(parsePoolXml(LIBVIRT_NETFS_POOL)), LIBVIRT_NETFS_POOL);
});

void test("formatPoolXml() shows an active pool's sizes and target permissions as libvirt does", () => {
  const def = parsePoolXml(LIBVIRT_ACTIVE_DIR_POOL);
  const live = {
    capacity: 270553174016,
    allocation: 24494514176,
    available: 246058659840,
    permissions: { mode: 0o711, owner: 0, group: 0 },
  };
  assert.equal(formatPoolXml(def, live), LIBVIRT_ACTIVE_DIR_POOL);
});

void test('an nbd pool keeps its server and port', () => {
  const xml = formatPoolXml({
    type: 'nbd',
    name: 'shared',
    uuid: '0798a32b-d91e-4dbc-bd6c-292818d5843b',
    source: { host: { name: 'storage', port: 10810 } },
  });
  assert.match(xml, /<host name='storage' port='10810'\/>/);
  assert.doesNotMatch(xml, /<target>/);
  assert.deepEqual(parsePoolXml(xml).source, { host: { name: 'storage', port: 10810 } });
});

void test('parsePoolXml() refuses what libvirt refuses, naming it', () => {
  const refusal = (xml: string): string => {
    try {
      parsePoolXml(xml);
    } catch (err) {
      assert.ok(err instanceof FerryError);
      return err.message;
    }
    return assert.fail('accepted');
  };
  assert.equal(
    refusal("<pool type='bogus'><name>x</name></pool>"),
    "XML error: Invalid value for attribute 'type' in element 'pool': 'bogus'.",
  );
  assert.equal(
    refusal("<pool type='dir'><name>x</name></pool>"),
    'XML error: missing storage pool target path',
  );
  assert.match(
    refusal("<pool type='dir'><name>../x</name><target><path>/t</path></target></pool>"),
    /cannot contain '\/'/,
  );
  assert.match(
    refusal("<pool type='nbd'><name>n</name></pool>"),
    /missing storage pool source host/,
  );
  assert.match(refusal('<domain/>'), /expected root element <pool>/);
});
