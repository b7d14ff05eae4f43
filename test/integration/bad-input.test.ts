/**
 * Every bad input the CLI or the wire can bring gets a clear `error: …`, exit status 1, and
 * changes nothing: the domain list, the definitions on disk and the running guests stay as
 * they were, and the daemon keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { connectRpc } from '../../src/rpc/index.js';
import { METHODS } from '../../src/rpc/methods.js';
import { FERRYD, qemuPids, run, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { guestXml, waitForHeartbeat } from '../helpers/guest.js';

/** Runs ferry, expects failure with `error:` lines matching `pattern`, and checks nothing changed. */
async function refused(d: TestDaemon, pattern: RegExp, ...args: string[]): Promise<void> {
  const listBefore = await d.ferryOk('list', '--all');
  const filesBefore = readdirSync(join(d.stateDir, 'qemu')).sort();
  const runBefore = readdirSync(d.runDir).sort();
  const r = await d.ferry(...args);
  assert.equal(r.code, 1, `ferry ${args.join(' ')} should fail; stdout: ${r.stdout}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: /);
  assert.ok(
    r.stderr
      .split('\n')
      .filter(Boolean)
      .every((l) => l.startsWith('error: ')),
    r.stderr,
  );
  assert.match(r.stderr, pattern);
  assert.equal(await d.ferryOk('list', '--all'), listBefore, 'domain list unchanged');
  assert.deepEqual(
    readdirSync(join(d.stateDir, 'qemu')).sort(),
    filesBefore,
    'definitions unchanged',
  );
  assert.deepEqual(readdirSync(d.runDir).sort(), runBefore, 'runtime files unchanged');
}

const MINIMAL = (name: string, extra = ''): string =>
  `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory>${extra}</domain>`;

test('bad definitions are refused with a clear error and change nothing', async (t) => {
  const d = await startDaemon(t);
  const uuid = '0b6b1f2e-6a55-4d8f-9a3e-0c7c3e2f4a10';
  await d.ferryOk('define', d.file('keep.xml', MINIMAL('keep', `<uuid>${uuid}</uuid>`)));

  await refused(
    d,
    /XML error: .*line 3, column \d+/,
    'define',
    d.file('malformed.xml', "<domain type='qemu'>\n<name>x</name>\n<memory>1</mem>\n</domain>"),
  );
  await refused(
    d,
    /Missing domain name/,
    'define',
    d.file('noname.xml', "<domain type='qemu'><memory>1024</memory></domain>"),
  );
  await refused(
    d,
    /Missing domain memory/,
    'define',
    d.file('nomem.xml', "<domain type='qemu'><name>nomem</name></domain>"),
  );
  await refused(
    d,
    /greater than zero/,
    'define',
    d.file('zero.xml', "<domain type='qemu'><name>z</name><memory>0</memory></domain>"),
  );
  await refused(
    d,
    /absurd/,
    'define',
    d.file(
      'huge.xml',
      "<domain type='qemu'><name>h</name><memory unit='TiB'>100</memory></domain>",
    ),
  );
  await refused(
    d,
    /DOCTYPE/,
    'define',
    d.file('doctype.xml', `<!DOCTYPE d [<!ENTITY x "y">]>${MINIMAL('dt')}`),
  );
  await refused(d, /already exists with uuid/, 'define', d.file('dupname.xml', MINIMAL('keep')));
  await refused(
    d,
    /'keep' already exists with uuid/,
    'define',
    d.file('dupuuid.xml', MINIMAL('other', `<uuid>${uuid}</uuid>`)),
  );
  await refused(
    d,
    /Failed to open file '.*nope\.xml': No such file or directory/,
    'define',
    join(d.dir, 'nope.xml'),
  );
  await refused(d, /failed to get domain 'ghost'/, 'start', 'ghost');
  await refused(d, /failed to get domain 'ghost'/, 'dominfo', 'ghost');
  await refused(
    d,
    /Kernel '\/tmp\/ferry-nonexistent\/vmlinuz' does not exist/,
    'create',
    d.file(
      'nokernel.xml',
      guestXml({
        name: 'nk',
        serialLog: join(d.dir, 'nk.log'),
        kernel: '/tmp/ferry-nonexistent/vmlinuz',
      }),
    ),
  );
  await refused(d, /error: unknown option '--bogus'/, 'list', '--bogus');
  await refused(
    d,
    /Invalid connection URI 'qemu\+foo:\/\/\/system'/,
    '-c',
    'qemu+foo:///system',
    'list',
  );
  await refused(
    d,
    /Failed to connect socket to '\/nonexistent\/sock': No such file or directory/,
    '-c',
    'qemu+unix:///system?socket=/nonexistent/sock',
    'list',
  );
});

test('definitions cannot reach host paths outside allowed_paths nor pass QEMU arguments', async (t) => {
  const d = await startDaemon(t);
  const disk = (path: string): string =>
    `<devices><disk type='file' device='disk'><source file='${path}'/><target dev='vda' bus='virtio'/></disk></devices>`;
  await refused(
    d,
    /^error: access denied: path '\/etc\/shadow' of disk 'vda' is outside the directories this host allows for guests \(allowed_paths in .*ferryd\.conf: /m,
    'define',
    d.file('shadow.xml', MINIMAL('shadow', disk('/etc/shadow'))),
  );
  await refused(
    d,
    /access denied: path '\/etc\/passwd' of serial file device is outside/,
    'create',
    d.file(
      'passwd.xml',
      MINIMAL(
        'passwd',
        "<devices><serial type='file'><source path='/etc/passwd' append='on'/></serial></devices>",
      ),
    ),
  );
  const passthrough = `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>qa</name><memory unit='MiB'>64</memory><qemu:commandline><qemu:arg value='-monitor'/><qemu:arg value='tcp:0.0.0.0:4444,server=on'/></qemu:commandline></domain>`;
  await refused(
    d,
    /access denied: <qemu:commandline> passthrough is disabled on this host \(allow_qemu_commandline in /,
    'define',
    d.file('qemu-args.xml', passthrough),
  );
});

test('a host with allow_qemu_commandline = 1 passes <qemu:arg> values to QEMU', async (t) => {
  const d = await startDaemon(t, { configText: 'allow_qemu_commandline = 1\n' });
  const xml = guestXml({ name: 'qa', serialLog: join(d.dir, 'qa.log') })
    .replace(
      "<domain type='qemu'",
      "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'",
    )
    .replace(
      '</domain>',
      "<qemu:commandline><qemu:arg value='-smbios'/><qemu:arg value='type=1,serial=ferry-passthrough'/></qemu:commandline></domain>",
    );
  await d.ferryOk('create', d.file('qa.xml', xml));
  const [pid] = qemuPids(d.runDir);
  assert.ok(pid !== undefined, 'QEMU is running');
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const at = argv.indexOf('-smbios');
  assert.deepEqual(argv.slice(at, at + 2), ['-smbios', 'type=1,serial=ferry-passthrough']);
  await d.ferryOk('destroy', 'qa');
});

test('lifecycle requests that do not fit the state are refused', async (t) => {
  const d = await startDaemon(t);
  const serial = join(d.dir, 's.log');
  await d.ferryOk('define', d.file('vm.xml', guestXml({ name: 'vm', serialLog: serial })));
  await refused(d, /not running/, 'suspend', 'vm');
  await refused(d, /not running/, 'destroy', 'vm');
  await d.ferryOk('start', 'vm');
  await waitForHeartbeat(serial);
  await refused(
    d,
    /Failed to start domain 'vm'\nerror: Requested operation is not valid: domain is already running/,
    'start',
    'vm',
  );
  await refused(d, /not paused/, 'resume', 'vm');
  await d.ferryOk('destroy', 'vm');

  const tserial = join(d.dir, 't.log');
  await d.ferryOk('create', d.file('t.xml', guestXml({ name: 't', serialLog: tserial })));
  await refused(d, /cannot undefine transient domain/, 'undefine', 't');
  await refused(
    d,
    /domain 't' already exists/,
    'create',
    d.file('t2.xml', guestXml({ name: 't', serialLog: tserial })),
  );
  await d.ferryOk('destroy', 't');
});

test('a missing QEMU binary and an unusable /dev/kvm give clear errors', async (t) => {
  const d = await startDaemon(t, {
    configText:
      'qemu_binary = "/nonexistent/qemu-system-x86_64"\nkvm_device = "/nonexistent/kvm"\n',
  });
  const serial = join(d.dir, 's.log');
  await d.ferryOk('define', d.file('vm.xml', guestXml({ name: 'vm', serialLog: serial })));
  await refused(
    d,
    /Cannot find QEMU binary '\/nonexistent\/qemu-system-x86_64': No such file or directory/,
    'start',
    'vm',
  );
  await d.ferryOk(
    'define',
    d.file('k.xml', guestXml({ name: 'k', serialLog: serial, type: 'kvm' })),
  );
  await refused(
    d,
    /KVM is not usable: cannot open '\/nonexistent\/kvm': No such file or directory/,
    'start',
    'k',
  );
  const version = await d.ferryOk('version');
  assert.match(version, /^Compiled against library: ferry /);
  assert.doesNotMatch(version, /Running hypervisor/);
});

test('a malformed config file stops ferryd with the line named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-conf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, 'log_level = "info"\nbogus_key = 1\n');
  const args = ['--config', bad, '--state-dir', join(dir, 's'), '--run-dir', join(dir, 'r')];
  const r = await run(process.execPath, [FERRYD, ...args]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: Unknown setting 'bogus_key' at .*bad\.conf:2/);
  const missing = await run(process.execPath, [FERRYD, '--config', join(dir, 'none.conf')]);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /^error: Cannot read config file '.*none\.conf': No such file or directory/,
  );
});

/** Sends raw bytes to ferryd and collects what comes back until it closes or `untilReply`. */
function rawExchange(socket: string, payload: string, untilReply = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket, () => s.write(payload));
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no ${untilReply ? 'reply' : 'close'} within 5 s; got: ${got}`));
    }, 5000);
    s.on('data', (b: Buffer) => {
      got += b.toString();
      if (untilReply && got.includes('\n')) s.end();
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.on('error', reject);
  });
}

test('bad RPC frames close only their own connection', async (t) => {
  const d = await startDaemon(t, { configText: 'max_frame_bytes = 4096\n' });
  // A well-behaved client connected before the bad ones must keep being served.
  const bystander = await connectRpc(d.socket, METHODS);
  t.after(() => bystander.close());
  assert.deepEqual(await bystander.call('domain.list', { active: true, inactive: true }), {
    domains: [],
  });
  assert.match(await rawExchange(d.socket, 'this is not json\n'), /"code":-32700/);
  const big = `{"jsonrpc":"2.0","id":1,"method":"domain.list","params":{"x":"${'a'.repeat(8000)}"}}\n`;
  assert.match(await rawExchange(d.socket, big), /"code":-32600/);
  assert.match(await rawExchange(d.socket, '[1,2,3]\n'), /"code":-32600/);
  // Unknown params are refused by the method's schema, naming the field; the connection stays.
  const strict =
    '{"jsonrpc":"2.0","id":7,"method":"domain.list","params":{"active":true,"inactive":true,"bogus":1}}\n';
  assert.match(await rawExchange(d.socket, strict, true), /bogus/);
  const unknown = '{"jsonrpc":"2.0","id":8,"method":"domain.explode","params":{}}\n';
  assert.match(await rawExchange(d.socket, unknown, true), /"code":-32601/);
  assert.equal(await d.ferryOk('list', '--all'), ' Id   Name   State\n--------------------\n\n');
  assert.equal((await bystander.call('host.info', {})).ferryVersion.length > 0, true);
  assert.equal(bystander.closed, false);
});
