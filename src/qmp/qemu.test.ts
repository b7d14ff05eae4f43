/**
 * QmpClient against a real QEMU (TCG, `-machine none`: no guest, starts in well under a second).
 * @module
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { QmpClient, QmpCommandError, QmpDisconnectedError } from './index.js';

interface QueryVersion {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

interface QueryStatus {
  status: string;
  running: boolean;
}

/** Spawns QEMU with a QMP socket and connects; t.after kills it (by PID) if still alive. */
async function startQemu(t: TestContext, opts: { oob?: boolean } = {}): Promise<QmpClient> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-qemu-'));
  const sock = join(dir, 'qmp.sock');
  const child = spawn(
    'qemu-system-x86_64',
    [
      ['-accel', 'tcg'],
      ['-machine', 'none'],
      ['-nodefaults', '-no-user-config'],
      ['-display', 'none'],
      ['-qmp', `unix:${sock},server=on,wait=off`],
    ].flat(),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr += s));
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => {
      resolve();
    });
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await Promise.race([exited, delay(5000, undefined, { ref: false })]);
    }
    await rm(dir, { recursive: true, force: true });
  });
  // Fail fast with QEMU's own words if it dies (or cannot be spawned) before QMP is up.
  const ac = new AbortController();
  const died = (what: string) => () => {
    ac.abort(new Error(`QEMU ${what} before QMP was up: ${stderr.trim()}`));
  };
  child.once('error', died('failed to spawn'));
  const onExit = died('exited');
  child.once('exit', onExit);
  const client = await QmpClient.connect(sock, {
    waitForSocket: true,
    timeoutMs: 15_000,
    signal: ac.signal,
    ...opts,
  });
  child.off('exit', onExit);
  t.after(() => {
    client.close();
  });
  return client;
}

void test('greeting, query-version and query-status come from a real QEMU 7', async (t) => {
  const client = await startQemu(t);
  assert.equal(client.greeting.version.qemu.major, 7);
  assert.ok(client.greeting.capabilities.includes('oob'));
  const version = await client.execute<QueryVersion>('query-version');
  assert.deepEqual(version.qemu, client.greeting.version.qemu);
  assert.equal(version.package, client.greeting.version.package);
  const status = await client.execute<QueryStatus>('query-status');
  assert.equal(status.status, 'running');
  assert.equal(status.running, true);
});

void test('an unknown command rejects with class CommandNotFound', async (t) => {
  const client = await startQemu(t);
  await assert.rejects(client.execute('ferry-no-such-command'), (err: unknown) => {
    assert.ok(err instanceof QmpCommandError);
    assert.equal(err.class, 'CommandNotFound');
    assert.equal(err.command, 'ferry-no-such-command');
    assert.match(err.message, /^QMP command 'ferry-no-such-command' failed: .*not been found$/);
    return true;
  });
  // The session survives a failed command.
  assert.equal((await client.execute<QueryStatus>('query-status')).running, true);
});

void test('stop and cont emit STOP and RESUME', async (t) => {
  const client = await startQemu(t);
  // Subscribe first: QEMU sends the event before the command's reply.
  const stopped = client.waitForEvent('STOP', { timeoutMs: 5000 });
  await client.execute('stop');
  const stop = await stopped;
  assert.ok(stop.timestamp.seconds > 0);
  assert.equal((await client.execute<QueryStatus>('query-status')).status, 'paused');
  const resumed = client.waitForEvent('RESUME', { timeoutMs: 5000 });
  await client.execute('cont');
  await resumed;
  assert.equal((await client.execute<QueryStatus>('query-status')).status, 'running');
});

void test('quit closes the connection and resolves closed', async (t) => {
  const client = await startQemu(t);
  const shutdown = client.waitForEvent('SHUTDOWN', { timeoutMs: 5000 });
  // QEMU normally replies before it exits, but it may also just hang up.
  await client.execute('quit').catch((err: unknown) => {
    assert.ok(err instanceof QmpDisconnectedError);
  });
  assert.equal((await shutdown).data.reason, 'host-qmp-quit');
  await client.closed;
  assert.equal(client.isClosed, true);
  await assert.rejects(client.execute('query-status'), QmpDisconnectedError);
});

void test('with oob negotiated, QEMU runs an out-of-band command and refuses one not made for it', async (t) => {
  const client = await startQemu(t, { oob: true });
  assert.equal(client.oobEnabled, true);
  // Dispatched out of band (QEMU's own check answers), not queued behind the main loop.
  await assert.rejects(
    client.execute('migrate-pause', undefined, { oob: true }),
    (err: unknown) => {
      assert.ok(err instanceof QmpCommandError);
      assert.match(err.message, /only supported during postcopy-active state/);
      return true;
    },
  );
  await assert.rejects(client.execute('query-status', undefined, { oob: true }), /OOB/);
  // In-band commands go on as before.
  assert.equal((await client.execute<QueryStatus>('query-status')).running, true);
});
