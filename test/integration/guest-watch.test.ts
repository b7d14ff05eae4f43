/**
 * Crash evidence on real guests: every guest ferryd boots has a pvpanic device (unless its
 * definition opts out), a panicked guest shows crashed (panicked) and stays for inspection,
 * `ferry inject-nmi` makes the test guest panic, and the post-switch-over watch tells a healthy
 * guest from a panicked, halted or vanished one.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainManager, SILENT_LOGGER, type DomainRecord } from '../../src/host/index.js';
import {
  guestFailedError,
  watchGuestAfterSwitchover,
  type GuestVerdict,
} from '../../src/migration/index.js';
import { connectRpc } from '../../src/rpc/index.js';
import { METHODS } from '../../src/rpc/methods.js';
import { DomainEvent } from '../../src/rpc/schema/domain.js';
import { killGuests, startDaemon, TEST_HOST_POLICY, type TestDaemon } from '../helpers/daemon.js';
import { guestXml, readHeartbeats, waitForConsole, waitForHeartbeat } from '../helpers/guest.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const OPT_OUT = `
  <metadata>
    <ferry:watch xmlns:ferry='urn:ferry:domain:1.0' pvpanic='off'/>
  </metadata>`;

/** The argv of the running QEMU of domain `name`, from /proc, found through its status file. */
function qemuOf(d: TestDaemon, name: string): { pid: number; argv: string[] } {
  for (const f of readdirSync(d.runDir).filter((n) => n.endsWith('.json'))) {
    const status = JSON.parse(readFileSync(join(d.runDir, f), 'utf8')) as {
      name: string;
      pid: number;
    };
    if (status.name !== name) continue;
    const argv = readFileSync(`/proc/${status.pid}/cmdline`, 'utf8').split('\0');
    return { pid: status.pid, argv };
  }
  throw new Error(`no status file for '${name}' in ${d.runDir}`);
}

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

test('guests get a pvpanic device and QEMU pauses them on panic, unless they opt out', async (t) => {
  const d = await startDaemon(t);
  const withLog = join(d.dir, 'with.log');
  const withoutLog = join(d.dir, 'without.log');
  await d.ferryOk('define', d.file('with.xml', guestXml({ name: 'with', serialLog: withLog })));
  const optOut = guestXml({ name: 'without', serialLog: withoutLog, extraTop: OPT_OUT });
  await d.ferryOk('define', d.file('without.xml', optOut));
  await d.ferryOk('start', 'with');
  await d.ferryOk('start', 'without');

  const withArgv = qemuOf(d, 'with').argv;
  assert.equal(withArgv[withArgv.indexOf('pvpanic,id=panic0') - 1], '-device');
  assert.equal(withArgv[withArgv.indexOf('panic=pause') - 1], '-action');
  const withoutArgv = qemuOf(d, 'without').argv;
  assert.ok(!withoutArgv.some((a) => a.startsWith('pvpanic')), withoutArgv.join(' '));
  assert.equal(withoutArgv[withoutArgv.indexOf('panic=pause') - 1], '-action');

  // The live definition shows the device the guest runs with; the stored one stays as written.
  assert.match(await d.ferryOk('dumpxml', 'with'), /^ {4}<panic model='isa'\/>$/m);
  assert.doesNotMatch(await d.ferryOk('dumpxml', 'with', '--inactive'), /<panic/);
  const withoutXml = await d.ferryOk('dumpxml', 'without');
  assert.doesNotMatch(withoutXml, /<panic/);
  assert.match(withoutXml, /<ferry:watch xmlns:ferry='urn:ferry:domain:1\.0' pvpanic='off'\/>/);

  // The guest kernel finds the device (ACPI QEMU0001) only where there is one.
  await waitForConsole(withLog, /FERRY-PVPANIC-READY/);
  await waitForConsole(withoutLog, /FERRY-ACPI-READY/);
  assert.doesNotMatch(readFileSync(withoutLog, 'utf8'), /FERRY-PVPANIC-READY/);
  await d.ferryOk('destroy', 'with');
  await d.ferryOk('destroy', 'without');
});

test('ferry inject-nmi panics the guest: crashed (panicked), kept for inspection until destroyed', async (t) => {
  const d = await startDaemon(t);
  const serial = join(d.dir, 'nmi.log');
  await d.ferryOk('define', d.file('nmi.xml', guestXml({ name: 'nmi', serialLog: serial })));
  await d.ferryOk('start', 'nmi');
  const client = await connectRpc(d.socket, METHODS);
  t.after(() => client.close());
  const events: DomainEvent[] = [];
  client.onNotification('domain.event', (ev) => events.push(ev), DomainEvent);
  await client.call('events.subscribe', {});
  // The guest is set to panic on an NMI (unknown_nmi_panic=1) once pvpanic is bound.
  await waitForConsole(serial, /FERRY-PVPANIC-READY/);
  await waitForHeartbeat(serial, { pred: (hb) => hb.seq >= 2 });

  assert.equal(await d.ferryOk('inject-nmi', 'nmi'), '\n');
  await waitFor('crashed (panicked)', async () => {
    return (await d.ferryOk('domstate', 'nmi', '--reason')) === 'crashed (panicked)\n\n';
  });
  assert.match(await d.ferryOk('list'), /^ 1 {4}nmi {4}crashed$/m);
  const crashed = events.find((e) => e.event === 'crashed');
  assert.deepEqual(crashed && [crashed.detail, crashed.state, crashed.reason], [
    'Panicked',
    'crashed',
    'panicked',
  ]);
  // Kept: QEMU is still there with the guest paused, and the guest prints nothing more.
  const { pid } = qemuOf(d, 'nmi');
  const seq = readHeartbeats(serial).at(-1)?.seq ?? 0;
  await sleep(1500);
  assert.equal(readHeartbeats(serial).at(-1)?.seq, seq, 'no heartbeat while crashed');
  assert.ok(alive(pid), 'QEMU stays for inspection');

  // A restarted ferryd finds the guest still crashed.
  await d.stop();
  await d.restart();
  assert.equal(await d.ferryOk('domstate', 'nmi', '--reason'), 'crashed (panicked)\n\n');

  // An NMI panic prints from NMI context, which the kernel defers until after the panic
  // notifiers (pvpanic stops the guest first): resuming lets it write the panic to the console.
  assert.equal(await d.ferryOk('resume', 'nmi'), "Domain 'nmi' resumed\n\n");
  await waitForConsole(serial, /Kernel panic - not syncing: NMI: Not continuing/);

  assert.equal(await d.ferryOk('destroy', 'nmi'), "Domain 'nmi' destroyed\n\n");
  assert.equal(await d.ferryOk('domstate', 'nmi', '--reason'), 'shut off (destroyed)\n\n');
  await waitFor('QEMU to end', () => Promise.resolve(!alive(pid)), 10_000);
  const r = await d.ferry('inject-nmi', 'nmi');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'error: Requested operation is not valid: domain is not running\n');
});

/** A DomainManager in this process (what ferryd runs), so the test can hand its records to the watch. */
function hostFor(t: TestContext): { domains: DomainManager; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-'));
  const runDir = join(dir, 'run');
  const domains = new DomainManager({
    configDir: join(dir, 'state', 'qemu'),
    statusDir: runDir,
    runDir,
    logDir: join(dir, 'state', 'log'),
    idFile: join(dir, 'state', 'next-domain-id'),
    qemuBinary: 'qemu-system-x86_64',
    kvmDevice: '/dev/kvm',
    logger: SILENT_LOGGER,
    policy: TEST_HOST_POLICY,
  });
  t.after(async () => {
    domains.detachAll();
    await killGuests(runDir);
    rmSync(dir, { recursive: true, force: true });
  });
  return { domains, dir };
}

function failure(v: GuestVerdict): Extract<GuestVerdict, { ok: false }>['evidence'] {
  if (v.ok) assert.fail(`expected a failed verdict, got ${JSON.stringify(v)}`);
  return v.evidence;
}

test('the post-switch-over watch passes a running guest and catches panicked, halted and vanished ones', async (t) => {
  const { domains, dir } = hostFor(t);
  const boot = async (name: string, extraCmdline?: string): Promise<DomainRecord> => {
    const serialLog = join(dir, `${name}.log`);
    const xml = guestXml({
      name,
      serialLog,
      ...(extraCmdline === undefined ? {} : { extraCmdline }),
    });
    return (await domains.create(xml, false)).rec;
  };

  const healthy = async (): Promise<void> => {
    const rec = await boot('healthy');
    await waitForHeartbeat(rec.consoleLog ?? '', { pred: (hb) => hb.seq >= 2 });
    const started = Date.now();
    const v = await watchGuestAfterSwitchover(rec, { graceMs: 1000 });
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.progress, 'seen');
    assert.ok(Date.now() - started >= 1000, 'a healthy guest is watched the whole grace period');
    assert.ok(v.vcpus.every((c) => c.ranNs > 0));

    // QEMU killed under the watch: the verdict says so at once.
    const pid = rec.proc?.pid ?? 0;
    const watching = watchGuestAfterSwitchover(rec, { graceMs: 60_000 });
    await sleep(300);
    process.kill(pid, 'SIGKILL');
    const evidence = failure(await watching);
    assert.equal(evidence.kind, 'exited');
    assert.ok(evidence.afterMs < 30_000);
    assert.ok(evidence.console?.lines.some((l) => l.startsWith('FERRY-HB')));
  };

  const panicked = async (): Promise<void> => {
    // sysrq 'c' a second after the modules are in: a panic from process context, as an oops
    // is, so the console shows it before pvpanic stops the guest.
    const rec = await boot('panicked', 'ferry.panic_after=1');
    const v = await watchGuestAfterSwitchover(rec, { graceMs: 120_000 });
    const evidence = failure(v);
    assert.equal(evidence.kind, 'panicked');
    assert.ok(v.watchedMs < 100_000, 'resolved early');
    assert.equal(evidence.panic?.action, 'pause');
    assert.equal(evidence.status, 'guest-panicked');
    assert.ok(evidence.qemuLog?.path.endsWith('panicked.log'));
    // Printed from process context, the panic reached the console before pvpanic stopped it.
    assert.equal(evidence.console?.key, 'Kernel panic - not syncing: sysrq triggered crash');
    // …and the quoted tail holds the end of the panic's stack dump.
    assert.ok(
      evidence.console.lines.some((l) => l.includes('</TASK>')),
      evidence.console.lines.join('\n'),
    );
    assert.equal(
      guestFailedError('panicked', evidence).message,
      "Migration of 'panicked' completed, but the guest failed on the destination: the guest kernel panicked; console: Kernel panic - not syncing: sysrq triggered crash",
    );
    assert.equal(rec.state, 'crashed');
    assert.equal(rec.reason, 'panicked');
    // A watch that starts after the panic still sees it.
    const again = failure(await watchGuestAfterSwitchover(rec, { graceMs: 60_000 }));
    assert.equal(again.kind, 'panicked');
  };

  const halted = async (): Promise<void> => {
    const rec = await boot('halted', 'ferry.halt_after=1');
    await waitForConsole(rec.consoleLog ?? '', /System halted/);
    const v = await watchGuestAfterSwitchover(rec, { graceMs: 1000 });
    const evidence = failure(v);
    assert.equal(evidence.kind, 'no-progress');
    assert.equal(evidence.status, 'running');
    assert.ok(evidence.vcpus?.every((c) => c.ranNs === 0 && c.slices === 0));
    assert.equal(rec.state, 'running', 'QEMU itself sees nothing wrong');
  };

  await Promise.all([healthy(), panicked(), halted()]);
});
