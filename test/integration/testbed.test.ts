/**
 * The testbed (src/testbed) as tests and the demo use it: hosts in their own namespaces, each
 * with a ferryd reachable by name over the testbed's bridge and an sshd that runs commands
 * inside that host; cut/restore and shaping of a host's link; and removal that leaves nothing
 * behind, also after the owner was killed. As root only, except the loopback fallback test.
 * @module
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import test, { type TestContext } from 'node:test';
import { guestXml } from '../helpers/guest.js';
import { REPO } from '../helpers/guest.js';
import { useTestbed } from '../helpers/testbed.js';
import {
  cleanupTestbeds,
  openTestbed,
  NOT_ROOT_NOTICE,
  type TestbedRecord,
} from '../../src/testbed/index.js';
import { guestProcesses } from '../../src/testbed/ferryd.js';
import { mountsUnder } from '../../src/testbed/namespaces.js';
import { isRunning, run, type ProcessRecord } from '../../src/testbed/processes.js';
import { readRecord, stateRoot } from '../../src/testbed/state.js';

const asRoot = process.getuid?.() === 0;
const rootOnly = asRoot ? {} : { skip: 'needs root (network namespaces)' };
const SSH = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10'];
const TESTBED_CLI = join(REPO, 'bin', 'ferry-testbed.js');

/** Everything a testbed made that must be gone after its removal. */
interface Traces {
  dir: string;
  netns: string[];
  processes: ProcessRecord[];
  subnetLink: string | undefined;
}

function tracesOf(rec: TestbedRecord): Traces {
  const daemons = rec.hosts.flatMap((h) => [h.ferryd, h.sshd]);
  const guests = rec.hosts.flatMap((h) => guestProcesses(join(h.dir, 'run-ferry')));
  return {
    dir: rec.dir,
    netns: readdirSync('/run/netns').filter((n) => n.startsWith(`${rec.name}-`)),
    processes: [...daemons, ...guests].filter((p): p is ProcessRecord => p !== undefined),
    subnetLink:
      rec.subnet === undefined
        ? undefined
        : join(stateRoot(rec.namespaces), `subnet-${rec.subnet}`),
  };
}

function assertGone(tr: Traces): void {
  assert.ok(tr.processes.length > 0, 'the testbed had processes to end');
  for (const p of tr.processes) assert.equal(isRunning(p), false, `process ${p.pid} ended`);
  for (const ns of tr.netns)
    assert.equal(existsSync(`/run/netns/${ns}`), false, `netns ${ns} gone`);
  assert.deepEqual(mountsUnder(tr.dir), [], 'nothing mounted under the testbed directory');
  assert.equal(existsSync(tr.dir), false, 'testbed directory removed');
  if (tr.subnetLink !== undefined)
    assert.equal(existsSync(tr.subnetLink), false, 'subnet released');
}

test(
  'each host has its own ferryd, reachable by name from the others, and an sshd that runs commands inside it',
  rootOnly,
  async (t) => {
    const tb = await useTestbed(t, {
      extraConfig: (host) => `# extra for ${host}\nmigration_watch_ms = 0\n`,
    });
    const [h1, h2] = [tb.host('h1'), tb.host('h2')];
    assert.equal(tb.root, true);

    assert.match(await h1.ferryOk('version'), /Running hypervisor: QEMU/);
    assert.match(await h2.ferryOk('list', '--all'), /Id\s+Name\s+State/);
    // The answer over TCP comes from h2's ferryd: h2's UTS namespace names it.
    assert.equal((await h1.ferryOk('-c', h2.tcpUri, 'hostname')).trim(), 'h2');
    assert.equal((await h2.ferryOk('-c', h1.tcpUri, 'hostname')).trim(), 'h1');

    assert.equal((await h1.exec([...SSH, 'h2', 'true'])).code, 0, 'ssh h2 true from h1');
    const conf = await h1.exec([...SSH, 'h2', 'cat', '/etc/ferry/ferryd.conf']);
    assert.equal(conf.code, 0, conf.stderr);
    assert.match(
      conf.stdout,
      new RegExp(`^listen_addr = "${h2.address.replace(/\./g, '\\.')}"$`, 'm'),
    );
    assert.match(conf.stdout, /^# extra for h2$/m);
    assert.match(conf.stdout, /^migration_watch_ms = 0$/m);
    // The remote command finds this repository's CLI on PATH and reaches h2's own ferryd.
    const remote = await h1.exec([...SSH, 'h2', 'ferry hostname']);
    assert.equal(remote.stdout.trim(), 'h2', remote.stderr);
    assert.equal(
      readFileSync(join(h1.paths.etcFerry, 'ferryd.conf'), 'utf8').includes(h1.address),
      true,
    );

    // known_hosts is what ssh checks: give h2's entry another host's key and ssh refuses.
    const knownHosts = join(h1.paths.ssh, 'known_hosts');
    const lines = readFileSync(knownHosts, 'utf8').trim().split('\n');
    const key = (name: string): string =>
      lines
        .find((l) => l.startsWith(`${name},`))
        ?.split(' ')
        .slice(1)
        .join(' ') ?? '';
    writeFileSync(
      knownHosts,
      `${lines.map((l) => (l.startsWith('h2,') ? `h2,${h2.address} ${key('h1')}` : l)).join('\n')}\n`,
    );
    const mismatch = await h1.exec([...SSH, 'h2', 'true']);
    assert.notEqual(mismatch.code, 0);
    assert.match(
      mismatch.stderr,
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/,
    );
  },
);

test('a cut host is unreachable until its link is restored', rootOnly, async (t) => {
  const tb = await useTestbed(t, { sshd: false });
  const [h1, h2] = [tb.host('h1'), tb.host('h2')];
  assert.equal((await h1.ferryOk('-c', h2.tcpUri, 'hostname')).trim(), 'h2');
  await h2.cut();
  // ferry gives up connecting after 5 s; nothing answers, no RST comes back.
  const cut = await h1.ferry('-c', h2.tcpUri, 'hostname');
  assert.notEqual(cut.code, 0, 'no connection through a cut link');
  assert.match(cut.stderr, /failed to connect/);
  assert.match(await h2.ferryOk('hostname'), /h2/, 'h2 itself still runs');
  await h2.restore();
  assert.equal((await h1.ferryOk('-c', h2.tcpUri, 'hostname')).trim(), 'h2');
});

test(
  'shape puts a tbf qdisc on both ends of the link, off removes it, a bad rate changes nothing',
  rootOnly,
  async (t) => {
    const tb = await useTestbed(t, { hosts: 1, ferryd: false, sshd: false });
    const h1 = tb.host('h1');
    const qdiscs = async (): Promise<string> =>
      (await h1.exec(['tc', 'qdisc', 'show', 'dev', 'eth0'])).stdout +
      (await run(['tc', '-n', `${tb.name}-switch`, 'qdisc', 'show', 'dev', 'veth1'])).stdout;
    assert.doesNotMatch(await qdiscs(), /tbf/);
    await h1.shape('80mbit');
    const shaped = await qdiscs();
    assert.equal(shaped.match(/qdisc tbf .* rate 80Mbit/g)?.length, 2, shaped);
    await assert.rejects(h1.shape('fast'), /Invalid rate 'fast'/);
    assert.equal(await qdiscs(), shaped);
    await h1.shape(undefined);
    assert.doesNotMatch(await qdiscs(), /tbf/);
  },
);

async function startGuestOn(
  t: TestContext,
  ferryOk: (...a: string[]) => Promise<string>,
  dir: string,
): Promise<void> {
  const xml = join(dir, 'guest.xml');
  writeFileSync(xml, guestXml({ name: 'tb-guest', serialLog: join(dir, 'guest-serial.log') }));
  await ferryOk('define', xml);
  await ferryOk('start', 'tb-guest');
  t.diagnostic('guest started');
}

test(
  'down() removes namespaces, daemons, guests, mounts and the directory',
  rootOnly,
  async (t) => {
    const tb = await useTestbed(t);
    const h1 = tb.host('h1');
    await startGuestOn(t, (...a) => h1.ferryOk(...a), h1.dir);
    const traces = tracesOf(readRecord(tb.dir));
    assert.equal(traces.netns.length, 3, 'two hosts and the switch');
    assert.equal(traces.processes.length, 5, 'two ferryd, two sshd, one QEMU');
    await tb.down();
    assertGone(traces);
    await tb.down(); // a second down() is harmless
  },
);

test('cleanupTestbeds() removes a testbed whose owner was killed', rootOnly, async (t) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'test/helpers/testbed-owner.ts')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  // Set once the owner has said what it made; the cleanup below needs it if the test fails.
  const owned: { name?: string; dir?: string } = {};
  t.after(async () => {
    child.kill('SIGKILL');
    if (owned.name !== undefined && existsSync(owned.dir ?? ''))
      await openTestbed(owned.name).down();
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`testbed owner exited with ${code}`)));
  });
  const made = JSON.parse(line) as { name: string; dir: string };
  Object.assign(owned, made);
  const traces = tracesOf(readRecord(made.dir));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.ok(traces.processes.every(isRunning), "the testbed's daemons outlive their owner");
  const removed = await cleanupTestbeds();
  assert.ok(
    removed.includes(made.name),
    `cleanup removed ${made.name} (removed: ${removed.join(' ')})`,
  );
  assertGone(traces);
});

test('without root the CLI says so and makes loopback hosts', rootOnly, async (t) => {
  // As nobody: the decision is made from the real uid, as for any user.
  const asNobody = (...args: string[]) =>
    run(
      [
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        TESTBED_CLI,
        ...args,
      ],
      {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TMPDIR: '/tmp' },
      },
    );
  const up = await asNobody('up', '1', '--name', `ftbnobody${process.pid}`);
  t.after(async () => {
    await asNobody('down', `ftbnobody${process.pid}`);
  });
  assert.equal(up.code, 0, up.stderr);
  assert.ok(up.stderr.includes(NOT_ROOT_NOTICE), up.stderr);
  assert.match(up.stdout, /1 loopback hosts/);
  assert.match(up.stdout, /h1\s+127\.77\.\d+\.11\s+qemu\+unix:/);
  const cut = await asNobody('cut', `ftbnobody${process.pid}`, 'h1');
  assert.equal(cut.code, 1);
  assert.match(cut.stderr, /^error: Cannot cut the link of h1: loopback hosts .*\n$/);
  const version = await asNobody(
    'exec',
    `ftbnobody${process.pid}`,
    'h1',
    '--',
    process.execPath,
    join(REPO, 'bin/ferry.js'),
    '-c',
    `qemu+tcp://${/127\.77\.\d+\.11/.exec(up.stdout)?.[0] ?? ''}/system`,
    'hostname',
  );
  assert.equal(version.code, 0, version.stderr);
  const down = await asNobody('down', `ftbnobody${process.pid}`);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(existsSync(`/tmp/ferry-testbed-65534/ftbnobody${process.pid}`), false);
});
