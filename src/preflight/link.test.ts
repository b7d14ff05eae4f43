import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { createLinkHandlers } from '../daemon/link-handlers.js';
import { newConnectionState, type ConnectionState } from '../daemon/handlers.js';
import { RpcClient, RpcServer } from '../rpc/index.js';
import { connectTcp, listenTcp } from '../rpc/transport/index.js';
import { METHODS, type Methods } from '../rpc/methods.js';
import { measureLink, openLinkSink } from './link.js';

/** Sends `bytes` to host:port and waits for the sink to close the connection. */
function sendBytes(port: number, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end(Buffer.alloc(bytes, 1));
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

/** A real RPC server with the link handlers on 127.0.0.1, and a client of it. */
async function linkPeer(t: TestContext): Promise<RpcClient<Methods>> {
  const server = new RpcServer<Methods, ConnectionState>(METHODS, {
    createState: (info) => newConnectionState(info),
  });
  const handlers = createLinkHandlers();
  server.implement('link.openSink', handlers['link.openSink']);
  server.implement('link.sinkResult', handlers['link.sinkResult']);
  const listener = await listenTcp('127.0.0.1', 0, (tr) => server.handle(tr));
  const client = new RpcClient(await connectTcp('127.0.0.1', listener.address.port), METHODS);
  t.after(async () => {
    client.close();
    server.close();
    await listener.close();
  });
  return client;
}

describe('link measurement', () => {
  it('a sink on the first free port of the range counts every byte it receives', async (t) => {
    const first = await openLinkSink('127.0.0.1', { range: [49152, 49215] });
    t.after(() => first.close());
    const second = await openLinkSink('127.0.0.1', { range: [first.port, first.port + 5] });
    t.after(() => second.close());
    assert.ok(first.port >= 49152 && first.port <= 49215);
    assert.equal(second.port, first.port + 1, 'a port in use is skipped');
    await sendBytes(first.port, 5 * 1024 * 1024 + 17);
    const r = await first.result();
    assert.equal(r.bytes, 5 * 1024 * 1024 + 17);
    assert.ok(r.ms >= 0);
  });

  it('a sink nobody sent to reports nothing at once', async () => {
    const sink = await openLinkSink(undefined, { lifetimeMs: 60_000 });
    assert.equal(sink.host, '127.0.0.1');
    assert.deepEqual(await sink.result(), { bytes: 0, ms: 0 });
  });

  it('all ports of the range taken: a clear error', async (t) => {
    const taken = await openLinkSink('127.0.0.1');
    t.after(() => taken.close());
    await assert.rejects(openLinkSink('127.0.0.1', { range: [taken.port, taken.port] }), {
      code: 'OPERATION_FAILED',
      message: `Unable to find an unused port in range ${taken.port}-${taken.port} on 127.0.0.1 for the link measurement`,
    });
  });

  it('measureLink through a real ferryd RPC server: bytes counted and a rate', async (t) => {
    const peer = await linkPeer(t);
    const m = await measureLink(peer, '127.0.0.1', { seconds: 0.5 });
    assert.ok(m.port >= 49152 && m.port <= 49215);
    assert.ok(m.bytesPerSecond > 0);
    assert.ok(m.durationMs > 0);
    // The sink is gone once its result was read.
    await assert.rejects(peer.call('link.sinkResult', { port: m.port }), {
      code: 'INVALID_ARG',
      message: `No link measurement sink on port ${m.port}`,
    });
  });

  it('a port the source cannot reach fails naming host and port', async (t) => {
    const peer = await linkPeer(t);
    // The sink listens on 127.0.0.1; 127.0.0.9 is loopback too but nothing listens there.
    // The source is told to send to an address where nothing listens (as a firewall would
    // make the real one): the sink on 127.0.0.1, the address given 127.0.0.9.
    const call = peer.call.bind(peer);
    const unreachable = {
      call: (async (method, params, options) => {
        const r: unknown = await call(method, params, options);
        return method === 'link.openSink' ? { ...(r as object), host: '127.0.0.9' } : r;
      }) as typeof call,
    };
    await assert.rejects(measureLink(unreachable, '127.0.0.9', { seconds: 0.2 }), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'CONNECT_FAILED');
      assert.match(
        err.message,
        /^Destination port 49\d{3} on 127\.0\.0\.9 is not reachable from the source: .*ECONNREFUSED/,
      );
      return true;
    });
  });
});
