import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slots } from './slots.js';

void test('Slots: at most `size` holders, the others served in arrival order', async () => {
  const slots = new Slots(2);
  const a = await slots.acquire();
  const b = await slots.acquire();
  assert.equal(slots.held, 2);
  const served: string[] = [];
  const c = slots.acquire().then((release) => {
    served.push('c');
    return release;
  });
  const d = slots.acquire().then((release) => {
    served.push('d');
    return release;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(served, [], 'nobody gets a third slot');
  a();
  a(); // twice: gives back one slot, not two
  const releaseC = await c;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(served, ['c']);
  assert.equal(slots.held, 2);
  b();
  const releaseD = await d;
  assert.deepEqual(served, ['c', 'd']);
  releaseC();
  releaseD();
  assert.equal(slots.held, 0);
});

void test('Slots: a size below 1 is 1', async () => {
  const slots = new Slots(0);
  assert.equal(slots.size, 1);
  const release = await slots.acquire();
  assert.equal(slots.held, 1);
  release();
  assert.equal(slots.held, 0);
});
