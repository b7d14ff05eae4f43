import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectionUri } from './uri.js';
import { FerryError } from './errors.js';

test('parseConnectionUri() reads the local system URI', () => {
  const uri = parseConnectionUri('qemu:///system');
  assert.equal(uri.transport, 'unix');
  assert.equal(uri.host, undefined);
  assert.equal(uri.path, 'system');
});

test('parseConnectionUri() reads a unix socket parameter', () => {
  const uri = parseConnectionUri('qemu+unix:///system?socket=/tmp/a%20b/sock');
  assert.equal(uri.transport, 'unix');
  assert.equal(uri.params['socket'], '/tmp/a b/sock');
});

test('parseConnectionUri() reads user, host and port of remote URIs', () => {
  const uri = parseConnectionUri('qemu+ssh://root@example-destination:2222/system?keyfile=/k');
  assert.deepEqual(
    [uri.transport, uri.user, uri.host, uri.port, uri.params['keyfile']],
    ['ssh', 'root', 'example-destination', 2222, '/k'],
  );
  assert.equal(parseConnectionUri('qemu+tcp://127.0.0.2:16509/system').port, 16509);
  assert.equal(parseConnectionUri('qemu+tcp://[::1]/system').host, '::1');
  assert.equal(parseConnectionUri('qemu://host/system').transport, 'tls');
});

test('parseConnectionUri() refuses malformed URIs with a clear message', () => {
  for (const bad of [
    '',
    'xen:///system',
    'qemu+foo:///system',
    'qemu:///nowhere',
    'qemu+tcp:///system',
    'qemu+unix://h/system',
    'qemu+tcp://h:99999/system',
    'system',
  ]) {
    assert.throws(
      () => parseConnectionUri(bad),
      (err: unknown) =>
        err instanceof FerryError &&
        err.code === 'INVALID_ARG' &&
        err.message.includes('Invalid connection URI'),
      bad,
    );
  }
});
