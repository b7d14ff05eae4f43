import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDomainXml } from '../domain/xml/index.js';
import { checkHostPolicy, qemuCommandlineArgs, type HostPolicy } from './policy.js';

function domain(devices: string, os = '', ns = '', extra = ''): string {
  return `<domain type='qemu'${ns}><name>vm</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type>${os}</os><devices>${devices}</devices>${extra}</domain>`;
}

void test('checkHostPolicy() allows paths inside allowed_paths and refuses the rest by name', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-policy-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const images = join(root, 'images');
  mkdirSync(images);
  writeFileSync(join(images, 'disk.img'), '');
  writeFileSync(join(root, 'secret'), '');
  symlinkSync(join(root, 'secret'), join(images, 'sneaky.img'));
  const policy: HostPolicy = { allowedPaths: [images], qemuCommandline: false, origin: 'F' };
  const disk = (path: string): string =>
    `<disk type='file' device='disk'><source file='${path}'/><target dev='vda' bus='virtio'/></disk>`;
  const check = (xml: string): void => {
    checkHostPolicy(parseDomainXml(xml).def, policy);
  };

  check(domain(disk(join(images, 'disk.img'))));
  // A file QEMU will create (a serial log) inside an allowed directory is fine.
  check(domain(`<serial type='file'><source path='${images}/new/console.log'/></serial>`));
  const outside = `is outside the directories this host allows for guests (allowed_paths in F: ${images})`;
  assert.throws(() => check(domain(disk('/etc/shadow'))), {
    code: 'ACCESS_DENIED',
    message: `access denied: path '/etc/shadow' of disk 'vda' ${outside}`,
  });
  assert.throws(() => check(domain(disk(`${images}/../secret`))), {
    message: `access denied: path '${images}/../secret' of disk 'vda' ${outside}`,
  });
  assert.throws(() => check(domain(disk(join(images, 'sneaky.img')))), {
    message: `access denied: path '${images}/sneaky.img' of disk 'vda' ${outside}`,
  });
  assert.throws(() => check(domain('', `<kernel>/boot/vmlinuz</kernel>`)), {
    message: `access denied: path '/boot/vmlinuz' of kernel ${outside}`,
  });
  assert.throws(
    () => check(domain(`<serial type='file'><source path='/etc/passwd' append='on'/></serial>`)),
    { message: `access denied: path '/etc/passwd' of serial file device ${outside}` },
  );
  assert.throws(() => check(domain(disk('relative.img'))), {
    message: "access denied: path 'relative.img' of disk 'vda' is not absolute",
  });
});

void test('<qemu:commandline> is refused unless allowed, and then passed on in order', () => {
  const xml = domain(
    '',
    '',
    " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'",
    "<qemu:commandline><qemu:arg value='-trace'/><qemu:arg value='events=/x'/></qemu:commandline>",
  );
  const { def } = parseDomainXml(xml);
  assert.throws(
    () => checkHostPolicy(def, { allowedPaths: [], qemuCommandline: false, origin: 'F' }),
    {
      code: 'ACCESS_DENIED',
      message:
        'access denied: <qemu:commandline> passthrough is disabled on this host (allow_qemu_commandline in F)',
    },
  );
  checkHostPolicy(def, { allowedPaths: [], qemuCommandline: true, origin: 'F' });
  assert.deepEqual(qemuCommandlineArgs(def), ['-trace', 'events=/x']);
  // Another prefix bound to the same namespace is the same thing.
  const other = parseDomainXml(
    domain(
      '',
      '',
      " xmlns:q='http://libvirt.org/schemas/domain/qemu/1.0'",
      "<q:commandline><q:arg value='-S'/></q:commandline>",
    ),
  ).def;
  assert.throws(() =>
    checkHostPolicy(other, { allowedPaths: [], qemuCommandline: false, origin: 'F' }),
  );
  assert.deepEqual(qemuCommandlineArgs(other), ['-S']);
});
