/**
 * QmpClient against a fake QMP server on a unix socket in a temp dir.
 * @module
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  QmpClient,
  QmpCommandError,
  QmpConnectError,
  QmpDisconnectedError,
  QmpProtocolError,
  QmpTimeoutError,
  type QmpConnectOptions,
} from './index.js';

const GREETING = {
  QMP: {
    version: { qemu: { micro: 3, minor: 2, major: 7 }, package: 'fake 1.0' },
    capabilities: ['oob'],
  },
};

interface Command {
  /** Absent (undefined) in an `exec-oob` message. */
  execute: string;
  'exec-oob'?: string;
  arguments?: unknown;
  id: unknown;
}

/** The server side of one connection. */
class Peer {
  readonly socket: net.Socket;
  #buf = '';
  #lines: string[] = [];
  #waiters: ((line: string) => void)[] = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (s: string) => {
      this.#buf += s;
      for (let nl = this.#buf.indexOf('\n'); nl !== -1; nl = this.#buf.indexOf('\n')) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        const waiter = this.#waiters.shift();
        if (waiter === undefined) this.#lines.push(line);
        else waiter(line);
      }
    });
    socket.on('error', () => undefined);
  }

  /** Writes a message the way QEMU does: one line, CRLF-terminated. */
  send(msg: unknown): void {
    this.socket.write(`${JSON.stringify(msg)}\r\n`);
  }

  async next(): Promise<Command> {
    const line =
      this.#lines.shift() ??
      (await new Promise<string>((resolve) => {
        this.#waiters.push(resolve);
      }));
    const parsed: unknown = JSON.parse(line);
    assert.ok(
      typeof parsed === 'object' &&
        parsed !== null &&
        ('execute' in parsed || 'exec-oob' in parsed),
    );
    return parsed as Command;
  }
}

interface Fake {
  dir: string;
  path: string;
  /** Starts listening (done by `fake` unless `listen: false`). */
  listen(): Promise<void>;
  /** The next connection, after greeting and capabilities negotiation (unless disabled). */
  peer(): Promise<Peer>;
}

async function fake(
  t: TestContext,
  opts: { greeting?: unknown; negotiate?: boolean; listen?: boolean } = {},
): Promise<Fake> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-qmp-'));
  const path = join(dir, 'qmp.sock');
  const sockets = new Set<net.Socket>();
  const ready: Peer[] = [];
  const waiting: ((p: Peer) => void)[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const peer = new Peer(socket);
    void (async () => {
      if (opts.greeting !== null) peer.send(opts.greeting ?? GREETING);
      if (opts.negotiate !== false && opts.greeting !== null) {
        const caps = await peer.next();
        assert.equal(caps.execute, 'qmp_capabilities');
        peer.send({ return: {}, id: caps.id });
      }
      const waiter = waiting.shift();
      if (waiter === undefined) ready.push(peer);
      else waiter(peer);
    })();
  });
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    await rm(dir, { recursive: true, force: true });
  });
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
  if (opts.listen !== false) await listen();
  return {
    dir,
    path,
    listen,
    peer: () =>
      Promise.resolve(
        ready.shift() ??
          new Promise<Peer>((resolve) => {
            waiting.push(resolve);
          }),
      ),
  };
}

async function connect(t: TestContext, path: string, opts?: QmpConnectOptions): Promise<QmpClient> {
  const client = await QmpClient.connect(path, opts);
  t.after(() => {
    client.close();
  });
  return client;
}

/** Connects to a fresh fake and returns both ends, handshake done. */
async function pair(
  t: TestContext,
  opts?: QmpConnectOptions,
): Promise<{ client: QmpClient; peer: Peer }> {
  const f = await fake(t);
  const client = await connect(t, f.path, opts);
  return { client, peer: await f.peer() };
}

void test('handshake reads the greeting and negotiates capabilities', async (t) => {
  const f = await fake(t, { negotiate: false });
  let connected = false;
  const connecting = QmpClient.connect(f.path).then((c) => {
    connected = true;
    t.after(() => {
      c.close();
    });
    return c;
  });
  const peer = await f.peer();
  const caps = await peer.next();
  assert.equal(caps.execute, 'qmp_capabilities');
  assert.equal(caps.arguments, undefined);
  assert.equal(typeof caps.id, 'string');
  await delay(20);
  assert.equal(connected, false, 'connect must wait for the capabilities reply');
  peer.send({ return: {}, id: caps.id });
  const client = await connecting;
  assert.deepEqual(client.greeting, {
    version: { qemu: { major: 7, minor: 2, micro: 3 }, package: 'fake 1.0' },
    capabilities: ['oob'],
  });
  assert.equal(client.isClosed, false);
});

void test('replies are matched by id even out of order', async (t) => {
  const { client, peer } = await pair(t);
  const a = client.execute<{ name: string }>('query-a', { x: 1 });
  const b = client.execute<number>('query-b');
  const ca = await peer.next();
  const cb = await peer.next();
  assert.deepEqual(ca.arguments, { x: 1 });
  assert.equal(cb.arguments, undefined);
  assert.notEqual(ca.id, cb.id);
  peer.send({ return: 42, id: cb.id });
  peer.send({ return: { name: 'a' }, id: ca.id });
  assert.deepEqual(await a, { name: 'a' });
  assert.equal(await b, 42);
});

void test('an error reply rejects with QmpCommandError', async (t) => {
  const { client, peer } = await pair(t);
  const p = client.execute('cont');
  const cmd = await peer.next();
  peer.send({
    error: { class: 'GenericError', desc: 'Resetting the VM is required.' },
    id: cmd.id,
  });
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof QmpCommandError);
    assert.equal(err.code, 'QMP_ERROR');
    assert.equal(err.class, 'GenericError');
    assert.equal(err.desc, 'Resetting the VM is required.');
    assert.equal(err.command, 'cont');
    assert.equal(err.message, "QMP command 'cont' failed: Resetting the VM is required");
    return true;
  });
});

void test('events reach listeners and waitForEvent honours its predicate', async (t) => {
  const { client, peer } = await pair(t);
  const seen: string[] = [];
  const off = client.onEvent((ev) => seen.push(ev.event));
  const waiting = client.waitForEvent('BLOCK_JOB_COMPLETED', {
    predicate: (ev) => ev.data.device === 'job1',
  });
  const timestamp = { seconds: 1700000000, microseconds: 5 };
  peer.send({ event: 'BLOCK_JOB_COMPLETED', data: { device: 'job0' }, timestamp });
  peer.send({ event: 'STOP', timestamp });
  peer.send({ event: 'BLOCK_JOB_COMPLETED', data: { device: 'job1' }, timestamp });
  const ev = await waiting;
  assert.deepEqual(ev, { event: 'BLOCK_JOB_COMPLETED', data: { device: 'job1' }, timestamp });
  assert.deepEqual(seen, ['BLOCK_JOB_COMPLETED', 'STOP', 'BLOCK_JOB_COMPLETED']);
  off();
  const stop = client.waitForEvent('STOP');
  peer.send({ event: 'STOP', timestamp });
  assert.deepEqual((await stop).data, {});
  assert.equal(seen.length, 3, 'unsubscribed listener must not be called');
});

void test('a throwing listener is reported and does not break the reader', async (t) => {
  const debug: string[] = [];
  const { client, peer } = await pair(t, { onDebug: (m) => debug.push(m) });
  client.onEvent(() => {
    throw new Error('boom');
  });
  const p = client.execute('x');
  peer.send({ event: 'STOP', timestamp: { seconds: 0, microseconds: 0 } });
  peer.send({ return: 'ok', id: (await peer.next()).id });
  assert.equal(await p, 'ok');
  assert.deepEqual(debug, ['QMP event listener threw on STOP']);
});

void test('framing copes with split replies and several lines per chunk', async (t) => {
  const { client, peer } = await pair(t);
  const events: string[] = [];
  client.onEvent((ev) => events.push(ev.event));
  const p = client.execute('a');
  const id = JSON.stringify((await peer.next()).id);
  // "é" is two bytes in UTF-8; split between them to prove decoding happens per line.
  const bytes = Buffer.from(`{"return": {"s": "caf\u00e9"}, "id": ${id}}\r\n`);
  const cut = bytes.indexOf(0xa9); // second byte of é
  for (const piece of [bytes.subarray(0, 3), bytes.subarray(3, cut), bytes.subarray(cut)]) {
    peer.socket.write(piece);
    await delay(10);
  }
  assert.deepEqual(await p, { s: 'caf\u00e9' });

  const b = client.execute('b');
  const c = client.execute('c');
  const [cb, cc] = [await peer.next(), await peer.next()];
  peer.socket.write(
    `\r\n{"event": "E1", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n` +
      `${JSON.stringify({ return: 'B', id: cb.id })}\r\n\r\n` +
      `{"event": "E2", "timestamp": {"seconds": 1, "microseconds": 3}}\n` +
      `${JSON.stringify({ return: 'C', id: cc.id })}\r\n`,
  );
  assert.deepEqual([await b, await c], ['B', 'C']);
  assert.deepEqual(events, ['E1', 'E2']);
});

void test('an oversize line is a protocol error that closes the connection', async (t) => {
  const { client, peer } = await pair(t, { maxLineBytes: 1024 });
  const p = client.execute('x');
  await peer.next();
  peer.socket.write('{"return": "'); // never finished: must not buffer forever
  peer.socket.write('a'.repeat(2000));
  await assert.rejects(p, QmpProtocolError);
  await client.closed;
  assert.equal(client.isClosed, true);
  await assert.rejects(client.execute('y'), QmpDisconnectedError);
});

void test('a line that is not a JSON object is a protocol error', async (t) => {
  for (const line of ['hello', '[1, 2]', '"text"']) {
    const { client, peer } = await pair(t);
    const p = client.execute('x');
    const w = client.waitForEvent('NEVER');
    await peer.next();
    peer.socket.write(`${line}\r\n`);
    await assert.rejects(p, QmpProtocolError, line);
    await assert.rejects(w, QmpProtocolError, line);
    await client.closed;
  }
});

void test('server closing rejects in-flight work and resolves closed', async (t) => {
  const { client, peer } = await pair(t);
  const p = client.execute('x');
  const w = client.waitForEvent('SHUTDOWN');
  await peer.next();
  peer.socket.end();
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof QmpDisconnectedError);
    assert.equal(err.code, 'QMP_ERROR');
    assert.match(err.message, /closed by the peer$/);
    return true;
  });
  await assert.rejects(w, QmpDisconnectedError);
  await client.closed;
  assert.equal(client.isClosed, true);
  await assert.rejects(client.execute('y'), QmpDisconnectedError);
  await assert.rejects(client.waitForEvent('Y'), QmpDisconnectedError);
});

void test('close() rejects in-flight commands and resolves closed', async (t) => {
  const { client, peer } = await pair(t);
  const p = client.execute('x');
  await peer.next();
  client.close();
  assert.equal(client.isClosed, true);
  await assert.rejects(p, QmpDisconnectedError);
  await client.closed;
});

void test('a timeout rejects with QmpTimeoutError and the late reply is dropped', async (t) => {
  const debug: string[] = [];
  const { client, peer } = await pair(t, { onDebug: (m) => debug.push(m) });
  const p = client.execute('slow', undefined, { timeoutMs: 50 });
  const cmd = await peer.next();
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof QmpTimeoutError);
    assert.equal(err.code, 'OPERATION_TIMEOUT');
    assert.equal(err.message, "Timed out after 50 ms waiting for QMP command 'slow'");
    return true;
  });
  peer.send({ return: 'late', id: cmd.id });
  const q = client.execute('next');
  peer.send({ return: 'fine', id: (await peer.next()).id });
  assert.equal(await q, 'fine');
  assert.deepEqual(debug, ['QMP reply for no pending command dropped']);
  await assert.rejects(client.waitForEvent('X', { timeoutMs: 20 }), QmpTimeoutError);
});

void test('commandTimeoutMs sets a default per-command timeout', async (t) => {
  const { client, peer } = await pair(t, { commandTimeoutMs: 30 });
  const p = client.execute('slow');
  await peer.next();
  await assert.rejects(p, QmpTimeoutError);
});

void test('an abort signal rejects with its reason', async (t) => {
  const { client, peer } = await pair(t);
  const ac = new AbortController();
  const p = client.execute('x', undefined, { signal: ac.signal });
  await peer.next();
  const reason = new Error('user gave up');
  ac.abort(reason);
  await assert.rejects(p, (err) => err === reason);

  const ac2 = new AbortController();
  const w = client.waitForEvent('X', { signal: ac2.signal });
  ac2.abort();
  await assert.rejects(w, { name: 'AbortError' });

  // Already aborted: nothing may be sent.
  await assert.rejects(
    client.execute('never', undefined, { signal: ac.signal }),
    (e) => e === reason,
  );
  const q = client.execute('after');
  const cmd = await peer.next();
  assert.equal(cmd.execute, 'after');
  peer.send({ return: {}, id: cmd.id });
  await q;
});

void test('connect times out when the server never greets', async (t) => {
  const f = await fake(t, { greeting: null });
  const started = Date.now();
  await assert.rejects(QmpClient.connect(f.path, { timeoutMs: 100 }), (err: unknown) => {
    assert.ok(err instanceof QmpTimeoutError);
    assert.match(err.message, /^Timed out after 100 ms connecting to QMP socket /);
    return true;
  });
  assert.ok(Date.now() - started < 2000);
  const peer = await f.peer();
  await new Promise((resolve) => peer.socket.once('close', resolve)); // the client hung up
});

void test('connect fails fast without waitForSocket and times out with it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-qmp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'missing.sock');
  await assert.rejects(QmpClient.connect(path), QmpConnectError);
  await assert.rejects(
    QmpClient.connect(path, { waitForSocket: true, timeoutMs: 150 }),
    (err: unknown) => {
      assert.ok(err instanceof QmpTimeoutError);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
      return true;
    },
  );
  const ac = new AbortController();
  const p = QmpClient.connect(path, { waitForSocket: true, signal: ac.signal });
  ac.abort(new Error('cancelled'));
  await assert.rejects(p, /cancelled/);
});

void test('a malformed greeting fails connect with a protocol error', async (t) => {
  const f = await fake(t, { greeting: { QMP: { version: 'seven' } }, negotiate: false });
  await assert.rejects(QmpClient.connect(f.path, { timeoutMs: 2000 }), QmpProtocolError);
});

void test('waitForSocket picks up a socket created after a delay', async (t) => {
  const f = await fake(t, { listen: false });
  const connecting = connect(t, f.path, { waitForSocket: true, timeoutMs: 5000 });
  await delay(300);
  await f.listen();
  const client = await connecting;
  assert.equal(client.greeting.version.qemu.major, 7);
});

void test('with oob, capabilities enable it when QEMU offers it, and exec-oob is sent only when asked', async (t) => {
  const f = await fake(t, { negotiate: false });
  const connecting = QmpClient.connect(f.path, { oob: true });
  const peer = await f.peer();
  const caps = await peer.next();
  assert.deepEqual(caps.arguments, { enable: ['oob'] });
  peer.send({ return: {}, id: caps.id });
  const client = await connecting;
  t.after(() => {
    client.close();
  });
  assert.equal(client.oobEnabled, true);
  const paused = client.execute('migrate-pause', undefined, { oob: true });
  const oob = await peer.next();
  assert.equal(oob['exec-oob'], 'migrate-pause');
  assert.equal(oob.execute, undefined);
  peer.send({ return: {}, id: oob.id });
  await paused;
  const queried = client.execute('query-migrate');
  const inBand = await peer.next();
  assert.equal(inBand.execute, 'query-migrate');
  peer.send({ return: { status: 'postcopy-paused' }, id: inBand.id });
  assert.deepEqual(await queried, { status: 'postcopy-paused' });
});

void test('without oob offered, an oob call goes in band', async (t) => {
  const f = await fake(t, {
    negotiate: false,
    greeting: {
      QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: '' }, capabilities: [] },
    },
  });
  const connecting = QmpClient.connect(f.path, { oob: true });
  const peer = await f.peer();
  const caps = await peer.next();
  assert.equal(caps.arguments, undefined);
  peer.send({ return: {}, id: caps.id });
  const client = await connecting;
  t.after(() => {
    client.close();
  });
  assert.equal(client.oobEnabled, false);
  const paused = client.execute('migrate-pause', undefined, { oob: true });
  const sent = await peer.next();
  assert.equal(sent.execute, 'migrate-pause');
  peer.send({ return: {}, id: sent.id });
  await paused;
});
