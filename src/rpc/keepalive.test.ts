import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { z } from 'zod';
import { FerryError } from '../common/errors.js';
import { RpcClient } from './client.js';
import { KeepaliveTimeoutError } from './keepalive.js';
import { RpcServer } from './server.js';
import { connectUnix, listenUnix } from './transport/unix.js';

const METHODS = { 'never.answers': { params: z.strictObject({}), result: z.null() } };

async function socketPath(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-ka-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'sock');
}

void test('the client notices a server that stops answering and fails pending calls', async (t) => {
  const path = await socketPath(t);
  // A "hung" peer: accepts the connection, reads everything, never writes a byte.
  const sockets = new Set<Socket>();
  const hung = createServer((s) => {
    sockets.add(s);
    s.resume();
  });
  await new Promise<void>((resolve) => hung.listen(path, resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    hung.close();
  });
  const client = new RpcClient(await connectUnix(path), METHODS, {
    keepalive: { intervalMs: 20, count: 2 },
  });
  const started = Date.now();
  const err = await client.call('never.answers', {}).then(
    () => assert.fail('the call cannot succeed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FerryError);
  assert.equal(err.code, 'CONNECT_FAILED');
  assert.equal(
    err.message,
    `Connection with unix:${path} closed due to keepalive timeout (no reply to 2 pings)`,
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 40 && elapsed < 2000, `noticed after ${elapsed} ms`);
  assert.equal(client.closed, true);
});

void test('a live server answers pings, so an idle client with keepalive stays connected', async (t) => {
  const path = await socketPath(t);
  const server = new RpcServer(METHODS);
  const listener = await listenUnix(path, (tr) => server.handle(tr));
  t.after(() => listener.close());
  const client = new RpcClient(await connectUnix(path), METHODS, {
    keepalive: { intervalMs: 10, count: 1 },
  });
  t.after(() => {
    client.close();
  });
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(client.closed, false);
  const err = await client.call('never.answers', {}).catch((e: unknown) => e);
  assert.ok(err instanceof FerryError);
  assert.equal(err.code, 'NO_SUPPORT'); // the connection still works
});

void test('server-side keepalive drops a client that went silent', async (t) => {
  const path = await socketPath(t);
  const server = new RpcServer(METHODS, { keepalive: { intervalMs: 10, count: 2 } });
  const closed = new Promise<FerryError | undefined>((resolve) => {
    void listenUnix(path, (tr) => {
      tr.onClose(resolve);
      server.handle(tr);
    }).then((l) => {
      t.after(() => l.close());
    });
  });
  // A raw transport never answers pings (only RpcClient/RpcServer do).
  await new Promise((resolve) => setTimeout(resolve, 20));
  const raw = await connectUnix(path);
  t.after(() => {
    raw.close();
  });
  const reason = await closed;
  assert.match(reason?.message ?? '', /closed due to keepalive timeout/);
  assert.equal(server.connections.size, 0);
});

void test('keepalive started on one server connection by a handler drops that client when it goes silent', async (t) => {
  const methods = { 'watch.me': { params: z.strictObject({}), result: z.null() } };
  const path = await socketPath(t);
  const server = new RpcServer(methods);
  const reason = new Promise<FerryError | undefined>((resolve) => {
    server.implement('watch.me', (_p, ctx) => {
      // What a migration destination does with its source's connection.
      ctx.connection.startKeepalive({ intervalMs: 10, count: 2 });
      ctx.connection.startKeepalive({ intervalMs: 10, count: 2 }); // a second call is a no-op
      ctx.onClose(resolve);
      return null;
    });
  });
  const listener = await listenUnix(path, (tr) => server.handle(tr));
  t.after(() => listener.close());
  // A raw transport sends the call and then never answers pings.
  const raw = await connectUnix(path);
  t.after(() => {
    raw.close();
  });
  raw.send({ jsonrpc: '2.0', id: 1, method: 'watch.me', params: {} });
  const why = await reason;
  assert.ok(why instanceof KeepaliveTimeoutError, `closed by keepalive: ${String(why)}`);
  assert.equal(why.code, 'CONNECT_FAILED');
});
