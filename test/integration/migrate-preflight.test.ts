/**
 * `ferry migrate --dry-run` and the preflight every migration runs first, between two testbed
 * hosts with real ferryds: a healthy pair passes and nothing changes; each refusal names its
 * reason and changes nothing (no QEMU, no definition on the destination, no disk markers left).
 * @module
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import type { PreflightReport } from '../../src/rpc/schema/preflight.js';
import { qemuPids } from '../helpers/daemon.js';
import { guestXml } from '../helpers/guest.js';
import { keepsBeating, startGuest } from '../helpers/migration.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { useTestbed } from '../helpers/testbed.js';

/** The `  VERDICT  CHECK  reason` lines of a printed report, as [verdict, check, reason]. */
function reportLines(out: string): [string, string, string][] {
  return out
    .split('\n')
    .filter((l) => /^ {2}(pass|warn|fail|skip) /.test(l))
    .map((l) => {
      const m = /^ {2}(\w+)\s+(\S+)\s+(.*)$/.exec(l);
      return [m?.[1] ?? '', m?.[2] ?? '', m?.[3] ?? ''];
    });
}

function line(out: string, check: string): [string, string] {
  const found = reportLines(out).find(([, c]) => c === check);
  assert.ok(found !== undefined, `no '${check}' line in:\n${out}`);
  return [found[0], found[2]];
}

/** Nothing of the guest reached the destination: no QEMU there, no definition. */
async function destinationUntouched(h2: TestbedHost): Promise<void> {
  assert.deepEqual(await listOf(h2), []);
  assert.deepEqual(qemuPids(h2.paths.runDir), []);
}

/** Defines (never starts) a guest on `host` from the test guest's XML with `extra` devices/top. */
async function defineOn(
  host: TestbedHost,
  dir: string,
  name: string,
  o: { extraDevices?: string; extraTop?: string; memoryMiB?: number } = {},
): Promise<void> {
  const xml = join(dir, `${name}.xml`);
  writeFileSync(xml, guestXml({ name, serialLog: join(dir, `${name}.log`), ...o }));
  await host.ferryOk('define', xml);
}

void test('dry-run on a healthy pair passes, measures, and changes nothing', async (t) => {
  const tb = await useTestbed(t, { hosts: 2 });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  // A shared raw disk in the guests' shared directory: proven by a marker, then cleaned up.
  const dir = mkdtempSync(join(tmpdir(), 'ferry-preflight-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const disk = join(dir, 'data.raw');
  writeFileSync(disk, Buffer.alloc(1024 * 1024));
  const serial = await startGuest(
    { dir, ferryOk: (...args: string[]) => h1.ferryOk(...args) },
    {
      name: 'vm1',
      hbMs: 200,
      extraDevices: `
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${disk}'/>
      <target dev='vdb' bus='virtio'/>
    </disk>`,
    },
  );

  const r = await h1.ferry('migrate', '--live', '--persistent', '--dry-run', 'vm1', h2.tcpUri);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  t.diagnostic(r.stdout);
  const lines = reportLines(r.stdout);
  assert.deepEqual(
    lines.map(([, c]) => c),
    [
      'state',
      'cpu',
      'machine',
      'versions',
      'devices',
      'numa',
      'storage',
      'ports',
      'memory',
      'bandwidth',
      'dirty-rate',
      'prediction',
    ],
  );
  for (const [verdict, check, reason] of lines)
    assert.ok(['pass', 'warn', 'skip'].includes(verdict), `${check}: ${verdict} ${reason}`);
  assert.equal(line(r.stdout, 'state')[0], 'pass');
  assert.match(
    line(r.stdout, 'machine')[1],
    /^pc-i440fx-\d+\.\d+ is offered by QEMU [\d.]+ on the destination$/,
  );
  assert.match(line(r.stdout, 'versions')[1], /same release/);
  assert.equal(line(r.stdout, 'memory')[0], 'pass');
  assert.equal(line(r.stdout, 'dirty-rate')[0], 'pass');
  assert.match(line(r.stdout, 'ports')[1], /incoming port 4915\d .*reachable from the source/);
  assert.match(line(r.stdout, 'bandwidth')[1], /^[\d.]+ [KMG]iB\/s measured over/);
  assert.equal(line(r.stdout, 'prediction')[0], 'pass');
  assert.match(
    line(r.stdout, 'prediction')[1],
    /pre-copy converges .*; expected [\d.]+ s, downtime \d+ ms/,
  );
  assert.match(r.stdout, /^Verdict: (pass|warn)/m);

  // --json parses and says the same; --no-measure skips the measurements.
  const json = await h1.ferry(
    'migrate',
    '--live',
    '--persistent',
    '--dry-run',
    '--no-measure',
    '--json',
    'vm1',
    h2.tcpUri,
  );
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as PreflightReport;
  assert.equal(report.domain, 'vm1');
  assert.notEqual(report.verdict, 'fail');
  for (const skipped of ['bandwidth', 'dirty-rate', 'prediction'])
    assert.equal(report.checks.find((c) => c.check === skipped)?.verdict, 'skip', skipped);
  assert.equal(report.checks.find((c) => c.check === 'ports')?.verdict, 'pass');

  // The dry-run's own options need --dry-run.
  const stray = await h1.ferry('migrate', '--live', '--json', 'vm1', h2.tcpUri);
  assert.equal(stray.code, 1);
  assert.equal(stray.stderr, 'error: Option --json requires --dry-run\n');

  // Nothing changed: the guest runs on h1 only, h2 has nothing, no marker is left behind.
  await destinationUntouched(h2);
  assert.deepEqual(await listOf(h1), [['vm1', 'running']]);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('.ferry-probe')),
    [],
  );
  await keepsBeating(serial);

  // The real migration still goes through, its preflight passing first.
  await h1.ferryOk('migrate', '--live', '--persistent', 'vm1', h2.tcpUri);
  assert.deepEqual(await listOf(h2), [['vm1', 'running']]);
  await keepsBeating(serial);
});

void test('dry-run refuses host devices, NUMA pinning and memory the destination cannot give, naming each', async (t) => {
  const tb = await useTestbed(t, { hosts: 2 });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  const serial = await startGuestOn(t, h1, { name: 'base' }, false);
  const dir = join(serial, '..');
  const offline = (vm: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    h1.ferry('migrate', '--offline', '--persistent', '--dry-run', '--no-measure', vm, h2.tcpUri);

  // Devices: PCI passthrough, an SR-IOV VF and a vGPU can be defined, and are named.
  await defineOn(h1, dir, 'pinned', {
    extraDevices: `
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'/></source>
    </hostdev>
    <interface type='hostdev' managed='yes'>
      <mac address='52:54:00:6d:90:02'/>
      <source><address type='pci' domain='0x0000' bus='0x3b' slot='0x10' function='0x2'/></source>
    </interface>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
      <source><address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source>
    </hostdev>`,
  });
  let r = await offline('pinned');
  assert.equal(r.code, 1);
  const [verdict, reason] = line(r.stdout, 'devices');
  assert.equal(verdict, 'fail');
  assert.match(reason, /hostdev pci 0000:3b:00\.1/);
  assert.match(reason, /interface type='hostdev' \(SR-IOV VF\) mac 52:54:00:6d:90:02/);
  assert.match(reason, /mdev vGPU uuid c2177883-f1bb-47f0-914d-32a22e3a8804/);
  assert.match(r.stderr, /^error: preflight failed: devices: hostdev pci 0000:3b:00\.1/m);
  // Such a guest cannot start here either (passthrough is not supported on these hosts).
  assert.match((await h1.ferry('start', 'pinned')).stderr, /device passthrough is not supported/);

  // NUMA: a node and a CPU this (one-node, few-CPU) destination lacks.
  await defineOn(h1, dir, 'node1', {
    extraTop: "\n  <numatune><memory mode='strict' nodeset='1'/></numatune>",
  });
  r = await offline('node1');
  assert.equal(r.code, 1);
  assert.equal(line(r.stdout, 'numa')[0], 'fail');
  assert.match(
    line(r.stdout, 'numa')[1],
    /numatune memory nodeset 1 names node 1 the destination lacks/,
  );
  await defineOn(h1, dir, 'cpu99', {
    extraTop: "\n  <cputune><vcpupin vcpu='0' cpuset='99'/></cputune>",
  });
  r = await offline('cpu99');
  assert.equal(r.code, 1);
  assert.match(
    line(r.stdout, 'numa')[1],
    /vcpupin vcpu 0 cpuset 99 names CPU 99 the destination lacks/,
  );
  assert.match(r.stderr, /^error: preflight failed: numa: /m);

  // Memory: more than the destination has free.
  await defineOn(h1, dir, 'huge', { memoryMiB: 8 * 1024 * 1024 });
  r = await offline('huge');
  assert.equal(r.code, 1);
  assert.equal(line(r.stdout, 'memory')[0], 'fail');
  assert.match(line(r.stdout, 'memory')[1], /guest 8 TiB .*: not enough memory/);

  // Each refusal changed nothing on the destination.
  await destinationUntouched(h2);
  // And the real offline migration of one of them is refused by its preflight.
  r = await h1.ferry('migrate', '--offline', '--persistent', 'node1', h2.tcpUri);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: preflight failed: numa: /m);
  await destinationUntouched(h2);
});

void test('a destination whose machine_types lacks the guest’s refuses dry-run, migrate and start', async (t) => {
  const tb = await useTestbed(t, {
    hosts: 2,
    extraConfig: (h) => (h === 'h2' ? 'machine_types = ["pc-q35-*"]\n' : ''),
  });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  const serial = await startGuestOn(t, h1, { name: 'vm1' });

  const r = await h1.ferry(
    'migrate',
    '--live',
    '--persistent',
    '--dry-run',
    '--no-measure',
    'vm1',
    h2.tcpUri,
  );
  assert.equal(r.code, 1);
  const [verdict, reason] = line(r.stdout, 'machine');
  assert.equal(verdict, 'fail');
  assert.match(
    reason,
    /machine type 'pc-i440fx-[\d.]+' is not supported on this host \(machine_types in .*ferryd\.conf: pc-q35-\*\)/,
  );
  assert.match(r.stderr, /^error: preflight failed: machine: /m);

  // `ferry migrate` itself stops in its preflight, before anything changed.
  const m = await h1.ferry('migrate', '--live', '--persistent', 'vm1', h2.tcpUri);
  assert.equal(m.code, 1);
  assert.match(
    m.stderr,
    /^error: preflight failed: machine: destination: machine type 'pc-i440fx-/m,
  );
  await destinationUntouched(h2);
  assert.deepEqual(await listOf(h1), [['vm1', 'running']]);
  await keepsBeating(serial);

  // The same setting refuses to start such a guest on h2.
  const xml = join(serial, '..', 'vm1.xml');
  await h2.ferryOk('define', xml);
  const started = await h2.ferry('start', 'vm1');
  assert.equal(started.code, 1);
  assert.match(started.stderr, /machine type 'pc-i440fx-[\d.]+' is not supported on this host/);
  assert.deepEqual(qemuPids(h2.paths.runDir), []);
});
