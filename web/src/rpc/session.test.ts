import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconnectDelayMs, RpcError, RpcSession } from './session.js';

function session(): { s: RpcSession; sent: Record<string, unknown>[] } {
  const sent: Record<string, unknown>[] = [];
  const s = new RpcSession((frame) => sent.push(JSON.parse(frame) as Record<string, unknown>));
  return { s, sent };
}

test('a call sends a request and resolves with the matching result', async () => {
  const { s, sent } = session();
  const answer = s.call('domain.info', { domain: 'vm1' });
  assert.deepEqual(sent[0], {
    jsonrpc: '2.0',
    id: 1,
    method: 'domain.info',
    params: { domain: 'vm1' },
  });
  s.receive(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { name: 'vm1' } }));
  assert.deepEqual(await answer, { name: 'vm1' });
  assert.equal(s.pendingCount, 0);
});

test("an error answer rejects with ferryd's message and code", async () => {
  const { s } = session();
  const answer = s.call('domain.start', { domain: 'nope' });
  s.receive(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32011, message: 'Domain not found: nope', data: { name: 'NO_DOMAIN' } },
    }),
  );
  await assert.rejects(answer, (err: unknown) => {
    assert.ok(err instanceof RpcError);
    assert.equal(err.message, 'Domain not found: nope');
    assert.equal(err.code, 'NO_DOMAIN');
    return true;
  });
});

test('notifications reach their listeners until unsubscribed; pings are answered', () => {
  const { s, sent } = session();
  const seen: unknown[] = [];
  const off = s.on('job.progress', (p) => seen.push(p.status));
  s.receive(JSON.stringify({ jsonrpc: '2.0', method: 'job.progress', params: { status: 'a' } }));
  off();
  s.receive(JSON.stringify({ jsonrpc: '2.0', method: 'job.progress', params: { status: 'b' } }));
  assert.deepEqual(seen, ['a']);
  s.receive(JSON.stringify({ jsonrpc: '2.0', method: 'keepalive.ping' }));
  assert.deepEqual(sent.at(-1), { jsonrpc: '2.0', method: 'keepalive.pong' });
});

test('a lost channel fails every pending call; garbage frames are ignored', async () => {
  const { s } = session();
  const a = s.call('host.info', {});
  s.receive('not json');
  s.receive(JSON.stringify({ jsonrpc: '2.0', id: 99, result: {} }));
  assert.equal(s.pendingCount, 1);
  s.fail(new Error('Connection to h2 lost'));
  await assert.rejects(a, /Connection to h2 lost/);
});

test('reconnect delays back off and stay bounded', () => {
  assert.equal(reconnectDelayMs(0), 500);
  assert.equal(reconnectDelayMs(2), 2000);
  assert.equal(reconnectDelayMs(20), 15_000);
});
