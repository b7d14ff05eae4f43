import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { newConnectionState, type LoginPolicy } from './handlers.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

void test('a connection records its transport and, over tcp or tls, the local address dialled', () => {
  const pick = (s: ReturnType<typeof newConnectionState>) => ({
    transport: s.transport,
    localAddress: s.localAddress,
    events: s.events,
  });
  const peer = 'test';
  assert.deepEqual(
    pick(newConnectionState({ peer, local: { kind: 'unix', path: '/run/ferry/ferry-sock' } })),
    { events: false, transport: 'unix', localAddress: undefined },
  );
  assert.deepEqual(
    pick(newConnectionState({ peer, local: { kind: 'tcp', address: '127.0.0.2', port: 16509 } })),
    { events: false, transport: 'tcp', localAddress: '127.0.0.2' },
  );
  assert.deepEqual(
    pick(newConnectionState({ peer, local: { kind: 'tls', address: '127.0.0.3', port: 16514 } })),
    { events: false, transport: 'tls', localAddress: '127.0.0.3' },
  );
  assert.deepEqual(pick(newConnectionState({ peer, local: undefined })), {
    events: false,
    transport: undefined,
    localAddress: undefined,
  });
});

void test('only the listeners the policy names make connections log in; unix never does', () => {
  const policy: LoginPolicy = { tcp: true, tls: false, accountsFile: '/dev/null', log: quiet };
  const required = (kind: 'unix' | 'tcp' | 'tls'): boolean => {
    const local =
      kind === 'unix'
        ? ({ kind, path: '/s' } as const)
        : ({ kind, address: '127.0.0.1', port: 1 } as const);
    return !newConnectionState({ peer: 'p', local }, policy).login.authenticated;
  };
  assert.equal(required('tcp'), true);
  assert.equal(required('tls'), false);
  assert.equal(required('unix'), false);
  const tls = newConnectionState(
    { peer: 'p', local: { kind: 'tls', address: 'a', port: 1 } },
    { ...policy, tls: true },
  );
  assert.equal(tls.login.authenticated, false);
  assert.throws(() => tls.login.check('domain.list'), {
    code: 'AUTH_REQUIRED',
    message: 'authentication required',
  });
  tls.login.check('auth.list');
});

void test('a console WebSocket is logged in as its session user; a claimed user counts nowhere else', () => {
  const policy: LoginPolicy = { tcp: false, tls: false, accountsFile: '/dev/null', log: quiet };
  const ws = newConnectionState(
    { peer: 'ws', local: { kind: 'websocket', address: '127.0.0.1', port: 9090 }, user: 'anna' },
    policy,
  );
  assert.equal(ws.login.authenticated, true);
  assert.equal(ws.login.user, 'anna');
  assert.equal(ws.localAddress, undefined);
  ws.login.check('domain.list');
  // Without a user, the WebSocket may call nothing but auth.*.
  const anonymous = newConnectionState(
    { peer: 'ws', local: { kind: 'websocket', address: '127.0.0.1', port: 9090 } },
    policy,
  );
  assert.throws(() => anonymous.login.check('domain.list'), { code: 'AUTH_REQUIRED' });
  // Over tcp with SASL, a user claimed by the transport does not replace the login.
  const tcp = newConnectionState(
    { peer: 'tcp', local: { kind: 'tcp', address: '127.0.0.1', port: 1 }, user: 'anna' },
    { ...policy, tcp: true },
  );
  assert.equal(tcp.login.authenticated, false);
  assert.equal(tcp.login.user, undefined);
});
