import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test, type TestContext } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { FerryError } from '../../common/errors.js';
import { FrameError, type JsonObject } from '../framing.js';
import { WebSocketTransport, WS_CLOSE, type WebSocketTransportOptions } from './websocket.js';

interface Pair {
  /** The server side, as ferryd wraps it. */
  server: WebSocketTransport;
  /** A raw client, as a browser would be. */
  client: WebSocket;
  /** The server transport's close reason, once it closes. */
  closed: Promise<FerryError | undefined>;
}

/** A real ws server and client on loopback; the server side wrapped in a WebSocketTransport. */
async function pair(t: TestContext, options: WebSocketTransportOptions = {}): Promise<Pair> {
  const maxPayload = options.maxFrameBytes ?? 16 * 1024 * 1024;
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  const http = createServer();
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(async () => {
    for (const ws of wss.clients) ws.terminate();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });
  const address = http.address();
  assert.ok(address !== null && typeof address === 'object');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${address.port}/`);
  t.after(() => client.terminate());
  await once(client, 'open');
  const [ws] = await accepted;
  const server = new WebSocketTransport(ws, { peer: 'ws:test', ...options });
  const closed = new Promise<FerryError | undefined>((resolve) => server.onClose(resolve));
  return { server, client, closed };
}

/** The next text message the client receives, parsed. */
async function nextMessage(client: WebSocket): Promise<JsonObject> {
  const [data] = (await once(client, 'message')) as [Buffer];
  return JSON.parse(data.toString('utf8')) as JsonObject;
}

async function closeOf(client: WebSocket): Promise<{ code: number; reason: string }> {
  const [code, reason] = (await once(client, 'close')) as [number, Buffer];
  return { code, reason: reason.toString('utf8') };
}

void test('WebSocketTransport: one text message is one JSON frame, both ways', async (t) => {
  const { server, client } = await pair(t);
  const got = new Promise<JsonObject>((resolve) => server.onMessage(resolve));
  client.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'host.info' }));
  assert.deepEqual(await got, { jsonrpc: '2.0', id: 1, method: 'host.info' });
  const reply = nextMessage(client);
  server.send({ jsonrpc: '2.0', id: 1, result: { ok: 'é' } });
  assert.deepEqual(await reply, { jsonrpc: '2.0', id: 1, result: { ok: 'é' } });
  assert.equal(server.peer, 'ws:test');
});

void test('WebSocketTransport: malformed JSON is answered with a JSON-RPC error, then closed', async (t) => {
  const { server, client, closed } = await pair(t);
  let delivered = 0;
  server.onMessage(() => delivered++);
  const error = nextMessage(client);
  const clientClosed = closeOf(client);
  client.send('{"jsonrpc": "2.0", nope');
  const frame = await error;
  assert.equal(frame['id'], null);
  assert.equal((frame['error'] as { code: number }).code, -32700);
  assert.equal((await clientClosed).code, WS_CLOSE.invalidPayload);
  const reason = await closed;
  assert.ok(reason instanceof FrameError && reason.reason === 'json');
  assert.equal(delivered, 0);
  assert.equal(server.closed, true);
});

void test('WebSocketTransport: a JSON array or a binary message is refused the same way', async (t) => {
  for (const [payload, binary, why] of [
    ['[1,2]', false, 'not-object'],
    ['{"a":1}', true, 'not-object'],
  ] as const) {
    const { client, closed } = await pair(t);
    const error = nextMessage(client);
    client.send(Buffer.from(payload), { binary });
    const frame = await error;
    assert.equal((frame['error'] as { code: number }).code, -32600);
    const reason = await closed;
    assert.ok(reason instanceof FrameError && reason.reason === why);
  }
});

void test('WebSocketTransport: a frame over the limit closes the socket with 1009', async (t) => {
  const { client, closed } = await pair(t, { maxFrameBytes: 1024 });
  const clientClosed = closeOf(client);
  client.send(JSON.stringify({ pad: 'x'.repeat(2000) }));
  assert.equal((await clientClosed).code, WS_CLOSE.tooBig);
  const reason = await closed;
  assert.ok(reason instanceof FrameError && reason.reason === 'oversize', String(reason));
});

void test('WebSocketTransport: sending over the limit throws and keeps the connection', async (t) => {
  const { server, client } = await pair(t, { maxFrameBytes: 1024 });
  assert.throws(() => server.send({ pad: 'x'.repeat(2000) }), { name: 'FrameError' });
  assert.equal(server.closed, false);
  const reply = nextMessage(client);
  server.send({ small: true });
  assert.deepEqual(await reply, { small: true });
});

void test('WebSocketTransport: a peer that does not read is dropped once the buffer is full', async (t) => {
  const { server, client, closed } = await pair(t, {
    maxFrameBytes: 64 * 1024,
    maxWriteBufferBytes: 128 * 1024,
  });
  // The client stops reading; its socket's and the kernel's buffers fill, then ws buffers.
  client.pause();
  const chunk = { pad: 'y'.repeat(60 * 1024) };
  for (let i = 0; i < 2000 && !server.closed; i++) {
    server.send(chunk);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  const reason = await closed;
  assert.match(reason?.message ?? '', /peer is not reading/);
});

void test('WebSocketTransport: close() sends a close frame with the reason', async (t) => {
  const { server, client, closed } = await pair(t);
  const clientClosed = closeOf(client);
  server.close(new FerryError('AUTH_REQUIRED', 'Your session has ended'));
  assert.deepEqual(await clientClosed, { code: WS_CLOSE.policy, reason: 'Your session has ended' });
  assert.equal((await closed)?.message, 'Your session has ended');
  // Sends after close are dropped, as on the other transports.
  server.send({ late: true });
});

void test('WebSocketTransport: the peer closing normally closes without a reason', async (t) => {
  const { client, closed } = await pair(t);
  client.close(1000);
  assert.equal(await closed, undefined);
});

void test('WebSocketTransport: pause() stops delivery until resume()', async (t) => {
  const { server, client } = await pair(t);
  const got: JsonObject[] = [];
  server.onMessage((m) => got.push(m));
  server.pause();
  client.send('{"n":1}');
  // Time for the message to arrive; had pause() not held it, it would have been delivered.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(got.length, 0);
  const delivered = new Promise((resolve) => server.onMessage(resolve));
  server.resume();
  await delivered;
  assert.deepEqual(got, [{ n: 1 }]);
});

void test('WebSocketTransport: a peer that stops answering pings is dropped', async (t) => {
  const { client, closed } = await pair(t, { pingIntervalMs: 100 });
  // autoPong off is not settable after connect; pausing the client's socket has the same effect.
  client.pause();
  const reason = await closed;
  assert.match(reason?.message ?? '', /keepalive timeout/);
});
