/**
 * A real guest through a real ferryd: define, start, heartbeats, pause, resume, ACPI shutdown,
 * destroy, undefine, transient create — checked by what virsh-style commands print and by
 * what the guest itself reports on its serial console.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { startDaemon } from '../helpers/daemon.js';
import { guestXml, readHeartbeats, waitForConsole, waitForHeartbeat } from '../helpers/guest.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a defined guest boots under ferryd, pauses, resumes and powers off by ACPI', async (t) => {
  const d = await startDaemon(t);
  const serial = join(d.dir, 'vm1-serial.log');
  const xmlFile = d.file('vm1.xml', guestXml({ name: 'vm1', serialLog: serial, hbMs: 200 }));

  assert.equal(await d.ferryOk('define', xmlFile), `Domain 'vm1' defined from ${xmlFile}\n\n`);
  assert.equal(
    await d.ferryOk('list', '--all'),
    ' Id   Name   State\n-----------------------\n -    vm1    shut off\n\n',
  );
  assert.equal(await d.ferryOk('start', 'vm1'), "Domain 'vm1' started\n\n");
  assert.match(await d.ferryOk('list'), /^ 1 {4}vm1 {4}running$/m);
  assert.equal(await d.ferryOk('domstate', 'vm1', '--reason'), 'running (booted)\n\n');

  // The guest itself says it runs: heartbeats with a rising sequence and no corruption.
  await waitForHeartbeat(serial, { pred: (hb) => hb.seq >= 3 });
  const info = await d.ferryOk('dominfo', 'vm1');
  assert.match(info, /^Id: {13}1$/m);
  assert.match(info, /^State: {10}running$/m);
  assert.match(info, /^Max memory: {5}131072 KiB$/m);
  assert.match(info, /^Persistent: {5}yes$/m);

  // Paused: the sequence stops advancing; resumed: it continues from where it was.
  assert.equal(await d.ferryOk('suspend', 'vm1'), "Domain 'vm1' suspended\n\n");
  assert.equal(await d.ferryOk('domstate', '--reason', '--domain', 'vm1'), 'paused (user)\n\n');
  await sleep(300);
  const pausedAt = readHeartbeats(serial).at(-1)?.seq ?? 0;
  await sleep(1200);
  assert.equal(readHeartbeats(serial).at(-1)?.seq, pausedAt, 'no heartbeat while paused');
  assert.equal(await d.ferryOk('resume', 'vm1'), "Domain 'vm1' resumed\n\n");
  await waitForHeartbeat(serial, { pred: (hb) => hb.seq >= pausedAt + 3 });
  const beats = readHeartbeats(serial);
  beats.forEach((hb, i) => assert.equal(hb.seq, i + 1, 'sequence without gaps or restarts'));
  assert.ok(beats.every((hb) => hb.corrupt === 0));

  // ACPI power button: the guest powers itself off.
  await waitForConsole(serial, /FERRY-ACPI-READY/);
  assert.equal(await d.ferryOk('shutdown', 'vm1', '--wait', '60'), "Domain 'vm1' is shut off\n\n");
  assert.equal(await d.ferryOk('domstate', 'vm1', '--reason'), 'shut off (shutdown)\n\n');
  assert.equal(
    readdirSync(d.runDir).filter((f) => f.endsWith('.json')).length,
    0,
    'no status file left',
  );

  // Started again, then forced off.
  assert.equal(await d.ferryOk('start', 'vm1'), "Domain 'vm1' started\n\n");
  assert.match(await d.ferryOk('list'), /^ 2 {4}vm1 {4}running$/m, 'ids keep increasing');
  assert.equal(await d.ferryOk('destroy', 'vm1'), "Domain 'vm1' destroyed\n\n");
  assert.equal(await d.ferryOk('domstate', 'vm1', '--reason'), 'shut off (destroyed)\n\n');
  assert.equal(await d.ferryOk('undefine', 'vm1'), "Domain 'vm1' has been undefined\n\n");
  assert.equal(await d.ferryOk('list', '--all'), ' Id   Name   State\n--------------------\n\n');
  assert.ok(!existsSync(join(d.stateDir, 'qemu', 'vm1.xml')));
});

test('a transient guest created from XML runs and disappears when destroyed', async (t) => {
  const d = await startDaemon(t);
  const serial = join(d.dir, 'tr-serial.log');
  const xmlFile = d.file('tr.xml', guestXml({ name: 'tr', serialLog: serial }));
  assert.equal(await d.ferryOk('create', xmlFile), `Domain 'tr' created from ${xmlFile}\n\n`);
  await waitForHeartbeat(serial);
  assert.match(await d.ferryOk('dominfo', 'tr'), /^Persistent: {5}no$/m);
  assert.match(await d.ferryOk('dumpxml', 'tr'), /^<domain type='qemu' id='1'>$/m);
  assert.equal(await d.ferryOk('list', '--all', '--name'), 'tr\n\n');
  assert.equal(await d.ferryOk('destroy', '1'), "Domain 'tr' destroyed\n\n");
  assert.equal(await d.ferryOk('list', '--all'), ' Id   Name   State\n--------------------\n\n');
});
