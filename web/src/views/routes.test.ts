import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestHref, parseRoute } from './routes.js';

test('a guest link round-trips, names with spaces and slashes included', () => {
  for (const name of ['vm1', 'my vm', 'a/b', 'ä%']) {
    assert.deepEqual(parseRoute(guestHref('h2', name)), { page: 'guest', hostId: 'h2', name });
  }
});

test('anything else is the hosts page', () => {
  assert.deepEqual(parseRoute(''), { page: 'hosts' });
  assert.deepEqual(parseRoute('#/'), { page: 'hosts' });
  assert.deepEqual(parseRoute('#/host/x'), { page: 'hosts' });
  assert.deepEqual(parseRoute('#/host/x/guest/%E0'), { page: 'hosts' });
});

test('#/fleet is the fleet page', () => {
  assert.deepEqual(parseRoute('#/fleet'), { page: 'fleet' });
  assert.deepEqual(parseRoute('#/fleet/x'), { page: 'hosts' });
});
