import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { newConnectionState } from './handlers.js';

void test('a connection records its transport and, over tcp, the local address dialled', () => {
  assert.deepEqual(newConnectionState({ local: { kind: 'unix', path: '/run/ferry/ferry-sock' } }), {
    events: false,
    transport: 'unix',
    localAddress: undefined,
  });
  assert.deepEqual(
    newConnectionState({ local: { kind: 'tcp', address: '127.0.0.2', port: 16509 } }),
    { events: false, transport: 'tcp', localAddress: '127.0.0.2' },
  );
  assert.deepEqual(newConnectionState({ local: undefined }), {
    events: false,
    transport: undefined,
    localAddress: undefined,
  });
});
