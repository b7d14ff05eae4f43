import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FerryError } from '../common/errors.js';
import type { CloseListener, JsonObject, Transport } from '../rpc/index.js';
import { relayToHost } from './relay.js';
import type { HostClient } from '../fleet/index.js';

/** The page's side, in memory: what the relay sends it, and how it was closed. */
class FakeBrowser implements Transport {
  readonly peer = 'ws:fake';
  readonly local = undefined;
  readonly sent: JsonObject[] = [];
  closed = false;
  reason: FerryError | undefined;
  readonly #messages = new Set<(msg: JsonObject) => void>();
  readonly #closes = new Set<CloseListener>();
  readonly done = new Promise<void>((resolve) => this.#closes.add(() => resolve()));
  send(msg: object): void {
    if (!this.closed) this.sent.push(msg as JsonObject);
  }
  onMessage(cb: (msg: JsonObject) => void): () => void {
    this.#messages.add(cb);
    return () => this.#messages.delete(cb);
  }
  onClose(cb: CloseListener): () => void {
    this.#closes.add(cb);
    return () => this.#closes.delete(cb);
  }
  close(reason?: FerryError): void {
    if (this.closed) return;
    this.closed = true;
    this.reason = reason;
    for (const cb of this.#closes) cb(reason);
  }
  pause(): void {}
  resume(): void {}
  deliver(msg: JsonObject): void {
    for (const cb of this.#messages) cb(msg);
  }
}

const quiet = { info: () => undefined, warn: () => undefined };

void test('relayToHost(): a host that cannot be reached is reported to the page, then closed', async () => {
  const browser = new FakeBrowser();
  relayToHost(
    browser,
    'qemu+tcp://h2/system',
    () =>
      Promise.reject(
        new FerryError(
          'CONNECT_FAILED',
          'Cannot reach host qemu+tcp://h2/system: Connection refused',
        ),
      ),
    quiet,
  );
  browser.deliver({ jsonrpc: '2.0', id: 1, method: 'domain.list', params: {} });
  await browser.done;
  assert.equal(browser.sent.length, 1);
  assert.deepEqual(browser.sent[0], {
    jsonrpc: '2.0',
    id: null,
    error: {
      code: -32019,
      message: 'Cannot reach host qemu+tcp://h2/system: Connection refused',
      data: { name: 'CONNECT_FAILED' },
    },
  });
  assert.equal(browser.reason?.code, 'CONNECT_FAILED');
});

void test('relayToHost(): calls queued while connecting are forwarded; a lost host fails them and closes', async () => {
  const browser = new FakeBrowser();
  const closers: ((reason: FerryError) => void)[] = [];
  let rejectCall: ((err: FerryError) => void) | undefined;
  const calls: string[] = [];
  const peer: HostClient = {
    closed: false,
    callRaw: (method) => {
      calls.push(method);
      return method === 'host.info'
        ? Promise.resolve({ hostname: 'h2' })
        : new Promise((_resolve, reject) => (rejectCall = reject));
    },
    notify: () => undefined,
    onAnyNotification: () => () => undefined,
    onClose: (cb) => {
      closers.push(cb);
      return () => undefined;
    },
    close: () => undefined,
  };
  relayToHost(browser, 'qemu+tcp://h2/system', () => Promise.resolve(peer), quiet);
  browser.deliver({ jsonrpc: '2.0', id: 7, method: 'host.info' });
  browser.deliver({ jsonrpc: '2.0', id: 8, method: 'migration.start', params: { domain: 'vm' } });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, ['host.info', 'migration.start']);
  assert.deepEqual(browser.sent, [{ jsonrpc: '2.0', id: 7, result: { hostname: 'h2' } }]);
  // The host goes away: its pending call fails under the page's id, then the page is told.
  const lost = new FerryError('CONNECT_FAILED', 'Connection to ferryd closed');
  rejectCall?.(lost);
  for (const cb of closers) cb(lost);
  await browser.done;
  assert.deepEqual(browser.sent.slice(1), [
    {
      jsonrpc: '2.0',
      id: 8,
      error: {
        code: -32019,
        message: 'Connection to ferryd closed',
        data: { name: 'CONNECT_FAILED' },
      },
    },
    {
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32019,
        message: 'Connection to qemu+tcp://h2/system lost: Connection to ferryd closed',
        data: { name: 'CONNECT_FAILED' },
      },
    },
  ]);
});
