/**
 * Error paths of the post-switch-over watch against a fake monitor. The evidence that the watch
 * works on real guests is test/integration/guest-watch.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ThreadSchedStat } from '../host/index.js';
import { QmpCommandError, QmpTimeoutError, type QmpEvent } from '../qmp/index.js';
import { guestFailedError, keyConsoleLine, tailLines } from './guest-evidence.js';
import { watchGuest, type GuestVerdict, type WatchQmp, type WatchTarget } from './guest-watch.js';

/** A monitor whose answers the test sets; `status` changes what query-status says. */
class FakeQmp implements WatchQmp {
  status = 'running';
  /** When set, query-status never answers (a hung QEMU). */
  hung = false;
  readonly #listeners = new Set<(ev: QmpEvent) => void>();
  #close!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.#close = resolve));
  isClosed = false;

  execute<T>(command: string, _args?: unknown, opts?: { timeoutMs?: number }): Promise<T> {
    if (command === 'query-status') {
      if (this.hung) {
        const ms = opts?.timeoutMs ?? 0;
        return new Promise((_, reject) =>
          setTimeout(() => reject(new QmpTimeoutError('waiting for query-status', ms)), ms),
        );
      }
      return Promise.resolve({ status: this.status, running: this.status === 'running' } as T);
    }
    if (command === 'query-cpus-fast') {
      return Promise.resolve([{ 'cpu-index': 0, 'thread-id': 4242 }] as T);
    }
    return Promise.reject(new QmpCommandError(command, 'CommandNotFound', 'no such command'));
  }

  onEvent(listener: (ev: QmpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: string, data: Record<string, unknown> = {}): void {
    const now = Date.now();
    const timestamp = { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 };
    for (const l of this.#listeners) l({ event, data, timestamp });
  }

  close(): void {
    this.isClosed = true;
    this.#close();
  }
}

/** A vCPU thread that runs `perRead` ns more at every read (0: a stopped vCPU). */
function vcpu(perRead: number): (pid: number, tid: number) => ThreadSchedStat {
  let runNs = 1_000_000;
  return () => ({ runNs: (runNs += perRead), waitNs: 5_000, slices: runNs / 1000, state: 'S' });
}

function target(qmp: FakeQmp, extra: Partial<WatchTarget> = {}): WatchTarget {
  return { name: 'vm', pid: 4241, qmp, ...extra };
}

function failed(v: GuestVerdict): Extract<GuestVerdict, { ok: false }> {
  if (v.ok) assert.fail(`expected a failure, got ${JSON.stringify(v)}`);
  return v;
}

const later = (ms: number, fn: () => void): void => void setTimeout(fn, ms);

test('a running guest whose vCPU runs passes after the grace period', async () => {
  const started = Date.now();
  const v = await watchGuest(target(new FakeQmp()), { graceMs: 800, schedStat: vcpu(50_000) });
  assert.ok(v.ok);
  assert.equal(v.progress, 'seen');
  assert.equal(v.vcpus[0]?.threadId, 4242);
  assert.ok(v.vcpus.every((c) => c.ranNs > 0));
  assert.ok(Date.now() - started >= 800, 'it waits the whole grace period');
});

test('GUEST_PANICKED ends the watch at once with the panic and the console as evidence', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const console = join(dir, 'serial.log');
  const lines = ['FERRY-HB seq=9 uptime=5.00', '[    5.1] Oops: 0000 [#1] PREEMPT SMP PTI'];
  lines.push('[    5.2] Kernel panic - not syncing: Fatal exception');
  writeFileSync(console, `${lines.join('\r\n')}\r\n`);
  const qmp = new FakeQmp();
  later(50, () => {
    qmp.status = 'guest-panicked';
    qmp.emit('GUEST_PANICKED', { action: 'pause' });
    qmp.emit('STOP');
  });
  const started = Date.now();
  const v = failed(
    await watchGuest(target(qmp, { consoleLog: console }), {
      graceMs: 10_000,
      schedStat: vcpu(50_000),
    }),
  );
  assert.ok(Date.now() - started < 5_000, 'resolved early');
  assert.equal(v.evidence.kind, 'panicked');
  assert.equal(v.evidence.panic?.action, 'pause');
  assert.equal(v.evidence.status, 'guest-panicked');
  assert.deepEqual(v.evidence.console?.lines, lines);
  assert.equal(v.evidence.console.key, 'Kernel panic - not syncing: Fatal exception');
  assert.deepEqual(
    v.evidence.events.map((e) => e.event),
    ['GUEST_PANICKED', 'STOP'],
  );
  const err = guestFailedError('vm', v.evidence);
  assert.equal(err.code, 'GUEST_FAILED');
  assert.equal(
    err.message,
    "Migration of 'vm' completed, but the guest failed on the destination: the guest kernel panicked; console: Kernel panic - not syncing: Fatal exception",
  );
  assert.deepEqual(err.data?.['evidence'], v.evidence);
});

test('the evidence waits for QEMU to finish stopping a panicked guest', async () => {
  const qmp = new FakeQmp();
  // GUEST_PANICKED comes from the vCPU thread before the main loop has stopped the guest.
  later(50, () => qmp.emit('GUEST_PANICKED', { action: 'pause' }));
  later(200, () => (qmp.status = 'guest-panicked'));
  const v = failed(await watchGuest(target(qmp), { graceMs: 10_000, schedStat: vcpu(1) }));
  assert.equal(v.evidence.status, 'guest-panicked');
});

test('a panic the host saw before the watch began is a failure straight away', async () => {
  const qmp = new FakeQmp();
  qmp.status = 'guest-panicked';
  const panic = { at: 1, action: 'pause' };
  const v = failed(await watchGuest(target(qmp, { panic }), { graceMs: 10_000 }));
  assert.equal(v.evidence.kind, 'panicked');
  assert.deepEqual(v.evidence.panic, panic);
  assert.ok(v.watchedMs < 5_000);
});

test('a vCPU that does not run at all while QEMU says running is no progress', async () => {
  const v = failed(await watchGuest(target(new FakeQmp()), { graceMs: 800, schedStat: vcpu(0) }));
  assert.equal(v.evidence.kind, 'no-progress');
  assert.match(v.evidence.summary, /no vCPU thread ran in \d+ ms \(thread states S\)/);
  assert.equal(v.evidence.vcpus?.[0]?.ranNs, 0);
});

test('progress is not judged over a window too short or a guest paused meanwhile', async () => {
  const short = await watchGuest(target(new FakeQmp()), { graceMs: 100, schedStat: vcpu(0) });
  assert.ok(short.ok);
  assert.equal(short.progress, 'not-judged');
  const qmp = new FakeQmp();
  later(50, () => {
    qmp.status = 'paused';
    qmp.emit('STOP');
  });
  const paused = await watchGuest(target(qmp), { graceMs: 800, schedStat: vcpu(0) });
  assert.ok(paused.ok, JSON.stringify(paused));
  assert.equal(paused.progress, 'not-judged');
});

test('QEMU stopping the guest with an internal error is a failure named by its status', async () => {
  const qmp = new FakeQmp();
  later(50, () => {
    qmp.status = 'internal-error';
    qmp.emit('STOP');
  });
  const v = failed(await watchGuest(target(qmp), { graceMs: 10_000, schedStat: vcpu(1) }));
  assert.equal(v.evidence.kind, 'stopped');
  assert.equal(v.evidence.status, 'internal-error');
  assert.equal(v.evidence.summary, "QEMU reports the guest 'internal-error'");
});

test('QEMU exiting, the guest resetting itself and a hung monitor are failures', async () => {
  const gone = new FakeQmp();
  const exit = { shutdown: undefined, panicked: false };
  later(50, () => gone.close());
  const v1 = failed(
    await watchGuest(target(gone, { exited: Promise.resolve(exit) }), { graceMs: 10_000 }),
  );
  assert.equal(v1.evidence.kind, 'exited');
  assert.deepEqual(v1.evidence.exit, exit);

  const reset = new FakeQmp();
  later(50, () => reset.emit('RESET', { guest: false, reason: 'host-qmp-system-reset' }));
  later(100, () => reset.emit('RESET', { guest: true, reason: 'guest-reset' }));
  const v2 = failed(await watchGuest(target(reset), { graceMs: 10_000 }));
  assert.equal(v2.evidence.kind, 'reset');
  assert.equal(v2.evidence.events.length, 2, 'both resets are in the evidence');

  const hung = new FakeQmp();
  hung.hung = true;
  const v3 = failed(await watchGuest(target(hung), { graceMs: 10_000, monitorTimeoutMs: 100 }));
  assert.equal(v3.evidence.kind, 'unresponsive');
  assert.match(v3.evidence.summary, /did not answer within 100 ms/);
});

test('keyConsoleLine() picks the line that says why the guest died', () => {
  assert.equal(
    keyConsoleLine([
      '[ 1.0] BUG: kernel NULL pointer dereference',
      '[ 1.1] Kernel panic - not syncing: Fatal exception',
    ]),
    'Kernel panic - not syncing: Fatal exception',
  );
  assert.equal(keyConsoleLine(['[ 1.0] Oops: 0002 [#1] SMP']), 'Oops: 0002 [#1] SMP');
  assert.equal(keyConsoleLine(['FERRY-HB seq=1']), undefined);
});

test('tailLines() reads the end of a big log without its cut first line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'big.log');
  const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
  writeFileSync(file, `${lines.join('\n')}\n\n`);
  assert.deepEqual(tailLines(file, 3), ['line 19997', 'line 19998', 'line 19999']);
  assert.deepEqual(tailLines(join(dir, 'missing'), 3), []);
});
