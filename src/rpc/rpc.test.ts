import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import { FerryError } from '../common/errors.js';
import { RpcClient } from './client.js';
import { connectRpc } from './connect.js';
import { RpcServer } from './server.js';
import { defineMethods, type RpcLogger } from './spec.js';
import { connectUnix, listenUnix } from './transport/unix.js';

const Empty = z.strictObject({});
const METHODS = defineMethods({
  'math.add': {
    doc: 'Adds two numbers.',
    params: z.strictObject({ a: z.number(), b: z.number() }),
    result: z.strictObject({ sum: z.number() }),
  },
  'echo.text': {
    params: z.strictObject({ text: z.string(), upper: z.boolean().default(false) }),
    result: z.string(),
  },
  'fail.ferry': { params: Empty, result: z.null() },
  'fail.crash': { params: Empty, result: z.null() },
  'fail.result': { params: Empty, result: z.strictObject({ n: z.number() }) },
  'gate.wait': { params: z.strictObject({ tag: z.number() }), result: z.number() },
  'blob.get': { params: z.strictObject({ size: z.number().int() }), result: z.string() },
  'events.subscribe': { params: Empty, result: z.strictObject({ subscribed: z.literal(true) }) },
  'not.implemented': { params: Empty, result: z.null() },
  'void.op': { params: Empty, result: z.void() },
});
type Methods = typeof METHODS;
interface ConnState {
  subscribed: boolean;
}

interface LogEntry {
  level: string;
  obj: object;
  msg: string | undefined;
}

/** A logger that records entries, to check what the server logs. */
function recordingLogger(): RpcLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj, msg });
    };
  return { entries, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** Starts a server on a fresh socket with a tiny handler set; everything is torn down after `t`. */
async function start(t: TestContext, opts: { maxInFlight?: number; maxFrameBytes?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-rpc-'));
  const path = join(dir, 'run', 'ferry-sock');
  const logger = recordingLogger();
  const server = new RpcServer<Methods, ConnState>(METHODS, {
    logger,
    createState: () => ({ subscribed: false }),
    ...(opts.maxInFlight === undefined ? {} : { maxInFlight: opts.maxInFlight }),
  });
  const gates: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  server
    .implement('math.add', ({ a, b }) => ({ sum: a + b }))
    .implement('echo.text', ({ text, upper }, ctx) => {
      ctx.notify('echo.seen', { text });
      return upper ? text.toUpperCase() : text;
    })
    .implement('fail.ferry', () => {
      throw new FerryError('NO_DOMAIN', "Domain not found: no domain with matching name 'vm9'", {
        data: { domain: 'vm9' },
      });
    })
    .implement('fail.crash', () => {
      throw new TypeError('secret internals at /var/lib/ferry');
    })
    .implement('fail.result', () => JSON.parse('{"n":"not a number"}') as { n: number })
    .implement('gate.wait', async ({ tag }) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      return tag;
    })
    .implement('blob.get', ({ size }) => 'x'.repeat(size))
    .implement('void.op', () => undefined)
    .implement('events.subscribe', (_p, ctx) => {
      ctx.connection.state.subscribed = true;
      return { subscribed: true as const };
    });
  const listener = await listenUnix(path, (tr) => server.handle(tr), {
    ...(opts.maxFrameBytes === undefined ? {} : { maxFrameBytes: opts.maxFrameBytes }),
  });
  const clients: RpcClient<Methods>[] = [];
  t.after(async () => {
    for (const open of gates.splice(0)) open();
    for (const c of clients) c.close();
    server.close();
    await listener.close();
    await rm(dir, { recursive: true, force: true });
  });
  const connect = async (): Promise<RpcClient<Methods>> => {
    const client = await connectRpc(path, METHODS);
    clients.push(client);
    return client;
  };
  const openGates = (): void => {
    for (const open of gates.splice(0)) open();
  };
  return { path, server, listener, logger, connect, openGates, stats: () => ({ maxRunning }) };
}

/** Resolves with the FerryError a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<FerryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FerryError, `expected a FerryError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

void test('typed calls round-trip over a unix socket', async (t) => {
  const { connect } = await start(t);
  const client = await connect();
  const { sum } = await client.call('math.add', { a: 2, b: 40 });
  assert.equal(sum, 42);
  // Defaults in the params schema apply on the server side.
  assert.equal(await client.call('echo.text', { text: 'hi' }), 'hi');
  assert.equal(await client.call('echo.text', { text: 'hi', upper: true }), 'HI');
  // A z.void() result travels as null and comes back as undefined.
  const nothing = await client.call('void.op', {}).then((v: unknown) => v);
  assert.equal(nothing, undefined);
  const calls = await Promise.all([1, 2, 3].map((b) => client.call('math.add', { a: 1, b })));
  assert.deepEqual(calls, [{ sum: 2 }, { sum: 3 }, { sum: 4 }]);
  // Type-level checks, never run: wrong names, params and results do not compile.
  const takesString = (_s: string): void => undefined;
  const typeChecks = async (): Promise<void> => {
    // @ts-expect-error unknown method
    await client.call('math.sub', { a: 1, b: 2 });
    // @ts-expect-error wrong param type
    await client.call('math.add', { a: '1', b: 2 });
    // @ts-expect-error the handler must return the result type
    new RpcServer(METHODS).implement('math.add', () => ({ total: 1 }));
    // @ts-expect-error implementAll() needs a handler for every method
    new RpcServer(METHODS).implementAll({ 'math.add': () => ({ sum: 1 }) });
    // @ts-expect-error the result is typed (sum is a number)
    takesString((await client.call('math.add', { a: 1, b: 2 })).sum);
  };
  assert.equal(typeof typeChecks, 'function');
});

void test('invalid params are refused with INVALID_ARG and a one-line zod message', async (t) => {
  const { connect } = await start(t);
  const client = await connect();
  const bad = { a: 'one', b: 2, c: 3 } as unknown as { a: number; b: number };
  const err = await rejection(client.call('math.add', bad));
  assert.equal(err.code, 'INVALID_ARG');
  assert.equal(
    err.message,
    `Invalid params for 'math.add': Unrecognized key: "c"; Invalid input: expected number, received string at a`,
  );
  assert.deepEqual(err.data?.['issues'], [
    { path: 'a', message: 'Invalid input: expected number, received string' },
    { path: '', message: 'Unrecognized key: "c"' },
  ]);
});

void test('unknown and unimplemented methods are reported as such', async (t) => {
  const { connect, path } = await start(t);
  const client = await connect();
  const missing = await rejection(client.call('not.implemented', {}));
  assert.equal(missing.code, 'NO_SUPPORT');
  assert.equal(missing.message, "Method 'not.implemented' is not implemented by this server");
  // A client built from a bigger table than the server's reaches METHOD_NOT_FOUND.
  const wider = { ...METHODS, 'only.client': { params: Empty, result: z.null() } };
  const other = new RpcClient(await connectUnix(path), wider);
  t.after(() => {
    other.close();
  });
  const unknown = await rejection(other.call('only.client', {}));
  assert.equal(unknown.code, 'METHOD_NOT_FOUND');
  assert.equal(unknown.message, "Unknown method 'only.client'");
});

void test('FerryError code, message and data are preserved through the wire', async (t) => {
  const { connect } = await start(t);
  const err = await rejection((await connect()).call('fail.ferry', {}));
  assert.equal(err.code, 'NO_DOMAIN');
  assert.equal(err.message, "Domain not found: no domain with matching name 'vm9'");
  assert.deepEqual(err.data, { domain: 'vm9' });
});

void test('an unexpected error becomes INTERNAL_ERROR without leaking; the cause is logged', async (t) => {
  const { connect, logger } = await start(t);
  const err = await rejection((await connect()).call('fail.crash', {}));
  assert.equal(err.code, 'INTERNAL_ERROR');
  assert.equal(err.message, 'Internal error');
  assert.equal(err.data, undefined);
  const logged = logger.entries.find((e) => e.level === 'error');
  assert.ok(logged);
  assert.match(String((logged.obj as { err: unknown }).err), /secret internals/);
});

void test('a result that does not match its schema is an internal error, not bad data', async (t) => {
  const { connect, logger } = await start(t);
  const err = await rejection((await connect()).call('fail.result', {}));
  assert.equal(err.code, 'INTERNAL_ERROR');
  const logged = logger.entries.find((e) => e.level === 'error');
  assert.match(String((logged?.obj as { err: unknown }).err), /does not match the schema/);
});

void test('a reply too big for a frame becomes an error reply', async (t) => {
  const { connect } = await start(t, { maxFrameBytes: 4096 });
  const client = await connect();
  const err = await rejection(client.call('blob.get', { size: 10_000 }));
  assert.equal(err.code, 'OPERATION_FAILED');
  assert.match(err.message, /^Reply to 'blob.get' is too large: Frame exceeds/);
  assert.equal((await client.call('blob.get', { size: 10 })).length, 10);
});

void test('handlers notify their caller; broadcast reaches only subscribed connections', async (t) => {
  const { connect, server } = await start(t);
  const [a, b] = [await connect(), await connect()];
  const seen: unknown[] = [];
  a.onNotification('echo.seen', (p) => seen.push(p), z.strictObject({ text: z.string() }));
  await a.call('echo.text', { text: 'ping' });
  assert.deepEqual(seen, [{ text: 'ping' }]); // the notification was sent before the reply
  const events: string[] = [];
  a.onNotification('domain.event', (p: unknown) => events.push(`a:${JSON.stringify(p)}`));
  b.onNotification('domain.event', (p: unknown) => events.push(`b:${JSON.stringify(p)}`));
  await a.call('events.subscribe', {});
  assert.equal(server.connections.size, 2);
  assert.equal(
    server.broadcast('domain.event', { n: 1 }, (c) => c.state.subscribed),
    1,
  );
  await a.call('math.add', { a: 0, b: 0 }); // a round trip: the event has arrived by now
  await b.call('math.add', { a: 0, b: 0 });
  assert.deepEqual(events, ['a:{"n":1}']);
});

void test('pending calls reject with CONNECT_FAILED when the server closes', async (t) => {
  const { connect, server, listener } = await start(t);
  const client = await connect();
  const pending = rejection(client.call('gate.wait', { tag: 1 }));
  await client.call('math.add', { a: 1, b: 1 }); // the gate call is now in flight
  server.close();
  await listener.close();
  const err = await pending;
  assert.equal(err.code, 'CONNECT_FAILED');
  assert.equal(err.message, 'Connection to ferryd closed');
  assert.equal(client.closed, true);
  assert.equal((await rejection(client.call('math.add', { a: 1, b: 1 }))).code, 'CONNECT_FAILED');
});

void test('calls can time out or be aborted on the client side', async (t) => {
  const { connect } = await start(t);
  const client = await connect();
  const timedOut = await rejection(client.call('gate.wait', { tag: 1 }, { timeoutMs: 30 }));
  assert.equal(timedOut.code, 'OPERATION_TIMEOUT');
  assert.equal(timedOut.message, "Timed out after 30 ms waiting for a reply to 'gate.wait'");
  const controller = new AbortController();
  const call = client.call('gate.wait', { tag: 2 }, { signal: controller.signal });
  controller.abort();
  const aborted = await rejection(call);
  assert.equal(aborted.message, "Call to 'gate.wait' was aborted");
  assert.equal((await client.call('math.add', { a: 1, b: 2 })).sum, 3);
});

void test('one connection cannot run more than maxInFlight calls at once', async (t) => {
  const { connect, openGates, stats } = await start(t, { maxInFlight: 2 });
  const client = await connect();
  const calls = [1, 2, 3, 4, 5].map((tag) => client.call('gate.wait', { tag }));
  // Release the gates one wave at a time until every call has answered.
  let results: number[] | undefined;
  void Promise.all(calls).then((r) => (results = r));
  while (results === undefined) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    openGates();
  }
  assert.deepEqual(results, [1, 2, 3, 4, 5]);
  assert.equal(stats().maxRunning, 2);
});

void test('a malformed frame closes only that connection; others are still served', async (t) => {
  const { connect, path } = await start(t);
  const good = await connect();
  const raw = createConnection({ path });
  const received: Buffer[] = [];
  raw.on('data', (d: Buffer) => received.push(d));
  const closed = new Promise((resolve) => raw.on('close', resolve));
  // A good request first: the connection works until the peer sends garbage.
  raw.write('{"jsonrpc":"2.0","id":1,"method":"math.add","params":{"a":1,"b":2}}\n');
  while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  raw.write('{not json}\n{"jsonrpc":"2.0","id":2,"method":"math.add","params":{"a":1,"b":2}}\n');
  await closed;
  const lines = Buffer.concat(received).toString().trim().split('\n');
  assert.equal(lines.length, 2); // the request after the garbage was not served
  assert.deepEqual(JSON.parse(lines[0] ?? ''), { jsonrpc: '2.0', id: 1, result: { sum: 3 } });
  const fatal = JSON.parse(lines[1] ?? '') as { id: null; error: { code: number } };
  assert.equal(fatal.id, null);
  assert.equal(fatal.error.code, -32700);
  assert.equal((await good.call('math.add', { a: 2, b: 2 })).sum, 4);
});

void test('an invalid envelope is answered with INVALID_REQUEST and the connection stays up', async (t) => {
  const { path } = await start(t);
  const raw = createConnection({ path });
  t.after(() => raw.destroy());
  const lines: string[] = [];
  raw.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
  raw.write('{"jsonrpc":"2.0","id":9,"method":"math.add","bogus":1}\n');
  raw.write('{"jsonrpc":"2.0","method":"keepalive.ping"}\n');
  raw.write('{"jsonrpc":"2.0","id":10,"method":"math.add","params":{"a":1,"b":1}}\n');
  while (lines.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  const [first, second, third] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(first?.['id'], 9);
  assert.equal((first['error'] as { code: number }).code, -32600);
  assert.deepEqual(second, { jsonrpc: '2.0', method: 'keepalive.pong' });
  assert.deepEqual(third, { jsonrpc: '2.0', id: 10, result: { sum: 2 } });
});

void test('a pino logger fits RpcLogger', () => {
  const logger: RpcLogger = pino({ enabled: false });
  assert.equal(typeof logger.error, 'function');
});

void test('an oversize request closes the connection; pending calls get the reason', async (t) => {
  const { connect, path } = await start(t, { maxFrameBytes: 4096 });
  const client = await connect();
  const slow = rejection(client.call('gate.wait', { tag: 1 }));
  const big = await rejection(client.call('echo.text', { text: 'x'.repeat(10_000) }));
  assert.equal(big.code, 'INVALID_REQUEST');
  assert.equal(big.message, 'Frame exceeds the maximum size of 4096 bytes');
  assert.equal((await slow).message, 'Frame exceeds the maximum size of 4096 bytes');
  // A raw peer that never sends a newline is cut off once it passes the limit.
  const raw = createConnection({ path });
  const received: Buffer[] = [];
  raw.on('data', (d: Buffer) => received.push(d));
  const closed = new Promise((resolve) => raw.on('close', resolve));
  raw.write('{"jsonrpc":"2.0","pad":"' + ' '.repeat(8192));
  await closed;
  assert.match(Buffer.concat(received).toString(), /"id":null,"error":\{"code":-32600/);
  assert.equal((await (await connect()).call('math.add', { a: 1, b: 1 })).sum, 2);
});

void test('callRaw forwards any call unchecked; onAnyNotification sees every notification', async (t) => {
  const { connect } = await start(t);
  const client = await connect();
  const seen: [string, unknown][] = [];
  client.onAnyNotification((method, params) => seen.push([method, params]));
  assert.deepEqual(await client.callRaw('math.add', { a: 1, b: 2 }), { sum: 3 });
  assert.equal(await client.callRaw('echo.text', { text: 'x' }), 'x');
  assert.deepEqual(seen, [['echo.seen', { text: 'x' }]]);
  // No table check on this side: the server answers for unknown methods and bad params.
  assert.equal((await rejection(client.callRaw('math.sub', {}))).code, 'METHOD_NOT_FOUND');
  assert.equal((await rejection(client.callRaw('math.add', { a: 'no' }))).code, 'INVALID_ARG');
  const err = await rejection(client.callRaw('fail.ferry', {}));
  assert.equal(err.code, 'NO_DOMAIN');
  assert.deepEqual(err.data, { domain: 'vm9' });
});
