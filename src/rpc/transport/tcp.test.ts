import { strict as assert } from 'node:assert';
import { createServer, connect, type Server } from 'node:net';
import { test, type TestContext } from 'node:test';
import { FerryError } from '../../common/errors.js';
import type { JsonObject } from '../framing.js';
import type { Transport } from './index.js';
import { connectTcp, formatHostPort, listenTcp, type TcpListener } from './tcp.js';

// 127.0.0.2 rather than 127.0.0.1: proves the listener binds the address it is given.
const HOST = '127.0.0.2';

async function failure(p: Promise<unknown>): Promise<FerryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FerryError, String(err));
    return err;
  }
  assert.fail('expected a rejection');
}

/** Echoes every message back, to prove a listener works. */
function echo(t: Transport): void {
  t.onMessage((m) => {
    t.send(m);
  });
}

async function listen(
  t: TestContext,
  onConnection: (transport: Transport) => void = echo,
  maxFrameBytes?: number,
): Promise<TcpListener> {
  const listener = await listenTcp(HOST, 0, onConnection, {
    ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
  });
  t.after(() => listener.close());
  return listener;
}

async function roundTrip(port: number, msg: JsonObject): Promise<JsonObject> {
  const t = await connectTcp(HOST, port);
  try {
    const reply = new Promise<JsonObject>((resolve) => t.onMessage(resolve));
    t.send(msg);
    return await reply;
  } finally {
    t.close();
  }
}

/** A port on HOST that refuses connections: bound once, then released. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

void test('port 0 binds a free port; messages round-trip', async (t) => {
  const listener = await listen(t);
  assert.equal(listener.address.address, HOST);
  assert.ok(listener.address.port > 0);
  assert.deepEqual(await roundTrip(listener.address.port, { hello: [1, 'two'] }), {
    hello: [1, 'two'],
  });
});

void test('an accepted connection knows the local address the client dialled', async (t) => {
  let onAccepted: (transport: Transport) => void = () => undefined;
  const accepted = new Promise<Transport>((resolve) => (onAccepted = resolve));
  const listener = await listen(t, (transport) => onAccepted(transport));
  const client = await connectTcp(HOST, listener.address.port);
  t.after(() => client.close());
  const server = await accepted;
  assert.deepEqual(server.local, { kind: 'tcp', address: HOST, port: listener.address.port });
  assert.match(server.peer, /^tcp:127\.0\.0\.\d+:\d+$/);
  assert.equal(client.peer, `tcp:${HOST}:${listener.address.port}`);
  assert.equal(client.local?.kind, 'tcp');
});

void test('a refused port fails in virsh-like wording naming HOST:PORT', async () => {
  const port = await closedPort();
  const err = await failure(connectTcp(HOST, port));
  assert.equal(err.code, 'CONNECT_FAILED');
  assert.equal(err.message, `Failed to connect to '${HOST}:${port}': Connection refused`);
});

void test('an IPv6 address is bracketed in messages', () => {
  assert.equal(formatHostPort('::1', 16509), '[::1]:16509');
  assert.equal(formatHostPort('10.0.0.1', 16509), '10.0.0.1:16509');
});

void test('a port in use is refused with the OS reason and the first listener keeps working', async (t) => {
  const first = await listen(t);
  const err = await failure(listenTcp(HOST, first.address.port, echo));
  assert.equal(err.code, 'SYSTEM_ERROR');
  assert.equal(
    err.message,
    `Cannot listen on ${HOST}:${first.address.port}: Address already in use`,
  );
  assert.deepEqual(await roundTrip(first.address.port, { still: 'alive' }), { still: 'alive' });
});

void test('an oversize frame closes only the connection that sent it', async (t) => {
  const listener = await listen(t, echo, 4096);
  const { port } = listener.address;
  const bystander = await connectTcp(HOST, port);
  t.after(() => bystander.close());

  const reply = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: HOST, port }, () => s.write(`"${'a'.repeat(8000)}"\n`));
    let got = '';
    s.on('data', (b: Buffer) => (got += b.toString()));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
  assert.match(reply, /"code":-32600/);
  assert.match(reply, /Frame exceeds the maximum size of 4096 bytes/);

  const back = new Promise<JsonObject>((resolve) => bystander.onMessage(resolve));
  bystander.send({ unharmed: true });
  assert.deepEqual(await back, { unharmed: true });
});

void test('close() ends the connections it accepted and stops accepting', async () => {
  const listener = await listenTcp(HOST, 0, echo);
  const { port } = listener.address;
  const client = await connectTcp(HOST, port);
  // One exchange makes sure the server side has accepted it before we close.
  const back = new Promise<JsonObject>((resolve) => client.onMessage(resolve));
  client.send({ ping: 1 });
  await back;
  const closed = new Promise<FerryError | undefined>((resolve) => client.onClose(resolve));
  await listener.close();
  assert.equal(await closed, undefined);
  assert.ok(client.closed);
  const err = await failure(connectTcp(HOST, port));
  assert.match(err.message, /Connection refused$/);
});
