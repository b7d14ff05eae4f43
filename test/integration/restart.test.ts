/**
 * Guests outlive their daemon: a restarted ferryd re-attaches to every QEMU still running and
 * marks the ones that died meanwhile as shut off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QmpClient } from '../../src/qmp/index.js';
import { startDaemon } from '../helpers/daemon.js';
import { guestXml, readHeartbeats, waitForConsole, waitForHeartbeat } from '../helpers/guest.js';

test('a restarted ferryd re-attaches to running guests and notices dead ones', async (t) => {
  const d = await startDaemon(t);
  const serialA = join(d.dir, 'a.log');
  const serialB = join(d.dir, 'b.log');
  const serialC = join(d.dir, 'c.log');
  await d.ferryOk(
    'define',
    d.file('a.xml', guestXml({ name: 'a', serialLog: serialA, hbMs: 200 })),
  );
  await d.ferryOk(
    'define',
    d.file('b.xml', guestXml({ name: 'b', serialLog: serialB, hbMs: 200 })),
  );
  await d.ferryOk(
    'define',
    d.file('c.xml', guestXml({ name: 'c', serialLog: serialC, hbMs: 200 })),
  );
  await d.ferryOk('start', 'a');
  await d.ferryOk('start', 'b');
  await d.ferryOk('start', 'c');
  await waitForHeartbeat(serialA);
  await waitForHeartbeat(serialB);
  await waitForHeartbeat(serialC);

  const hostUuid = readFileSync(join(d.stateDir, 'host-uuid'), 'utf8');
  await d.stop();
  // While ferryd is down, guest a keeps running, b's QEMU dies and c powers off.
  type Status = { name: string; pid: number; qmpSocket: string };
  const statuses = readdirSync(d.runDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(d.runDir, f), 'utf8')) as Status);
  const statusB = statuses.find((s) => s.name === 'b');
  const statusC = statuses.find((s) => s.name === 'c');
  assert.ok(
    statusB !== undefined && statusC !== undefined,
    'status files kept while ferryd is down',
  );
  process.kill(statusB.pid, 'SIGKILL');
  // c's guest powers itself off (ACPI) while nobody watches: QEMU waits in 'shutdown'.
  const qmp = await QmpClient.connect(statusC.qmpSocket);
  await waitForConsole(serialC, /FERRY-ACPI-READY/);
  const off = qmp.waitForEvent('SHUTDOWN', { timeoutMs: 60_000 });
  await qmp.execute('system_powerdown');
  assert.equal((await off).data['guest'], true);
  qmp.close();
  const seqWhileDown = readHeartbeats(serialA).at(-1)?.seq ?? 0;
  await waitForHeartbeat(serialA, { pred: (hb) => hb.seq >= seqWhileDown + 3 });

  await d.restart();
  assert.equal(readFileSync(join(d.stateDir, 'host-uuid'), 'utf8'), hostUuid, 'host UUID kept');
  assert.equal(
    await d.ferryOk('list', '--all'),
    ' Id   Name   State\n-----------------------\n 1    a      running\n -    b      shut off\n -    c      shut off\n\n',
  );
  assert.equal(await d.ferryOk('domstate', 'b', '--reason'), 'shut off (crashed)\n\n');
  assert.equal(await d.ferryOk('domstate', 'c', '--reason'), 'shut off (shutdown)\n\n');
  assert.match(d.log(), /QEMU is gone; domain marked shut off/);

  // The re-attached guest is fully controllable and never rebooted.
  const before = readHeartbeats(serialA).at(-1)?.seq ?? 0;
  await d.ferryOk('suspend', 'a');
  await d.ferryOk('resume', 'a');
  await waitForHeartbeat(serialA, { pred: (hb) => hb.seq >= before + 2 });
  const beats = readHeartbeats(serialA);
  beats.forEach((hb, i) => assert.equal(hb.seq, i + 1, 'one boot, sequence unbroken'));
  assert.ok(beats.every((hb, i) => i === 0 || hb.uptime > (beats[i - 1]?.uptime ?? 0)));
  await d.ferryOk('destroy', 'a');
  assert.equal(await d.ferryOk('domstate', 'a', '--reason'), 'shut off (destroyed)\n\n');
  // b can start again: nothing stale blocks it.
  await d.ferryOk('start', 'b');
  assert.match(await d.ferryOk('list'), /^ 4 {4}b {6}running$/m);
  await d.ferryOk('destroy', 'b');
  assert.ok(!existsSync(join(d.runDir, `${statusB.name}.json`)));
});
