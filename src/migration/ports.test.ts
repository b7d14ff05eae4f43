import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocatePort } from './ports.js';

void test('allocatePort: migrations arriving at once get different ports', async () => {
  // A range of its own, so that other tests' allocations do not interfere.
  const range: [number, number] = [49300, 49309];
  const ports = await Promise.all(
    Array.from({ length: 4 }, () => allocatePort('127.0.0.1', range, new Set())),
  );
  assert.equal(new Set(ports).size, 4, `ports: ${ports.join(', ')}`);
  const next = await allocatePort('127.0.0.1', range, new Set());
  assert.ok(!ports.includes(next), 'a port just handed out is held back');
  await assert.rejects(
    Promise.all(Array.from({ length: 6 }, () => allocatePort('127.0.0.1', range, new Set()))),
    /Unable to find an unused port in range 49300-49309/,
  );
});
