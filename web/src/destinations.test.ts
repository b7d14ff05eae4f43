import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationChoices, isHostlessUri } from './destinations.js';
import type { FleetHost } from './rpc/types.js';

const host = (id: string, uri: string): FleetHost => ({
  id,
  uri,
  hostname: id,
  reachable: true,
});
const known = [
  host('local', 'qemu:///system'),
  host('h2', 'qemu+tcp://10.0.0.2/system'),
  host('h3', 'qemu+tls://h3.example/system'),
];

test('from this host, every other known host is offered', () => {
  assert.deepEqual(
    destinationChoices(known, 'local').map((h) => h.id),
    ['h2', 'h3'],
  );
});

test('from a remote host, a URI without a host part is left out: it would name the source', () => {
  assert.deepEqual(
    destinationChoices(known, 'h2').map((h) => h.id),
    ['h3'],
  );
  assert.equal(isHostlessUri('qemu:///system'), true);
  assert.equal(isHostlessUri('qemu+unix:///system?socket=/run/x'), true);
  assert.equal(isHostlessUri('qemu+ssh://root@h2/system'), false);
});
