import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { SignInLimiter } from './sign-in-limiter.js';

function limiter(): { limit: SignInLimiter; advance: (ms: number) => void } {
  let now = 5_000_000;
  return { limit: new SignInLimiter({ now: () => now }), advance: (ms) => (now += ms) };
}

const KEYS = ['addr:192.0.2.7', 'user:anna'];

void test('SignInLimiter: the 5th failure in 5 min locks for 60 s', () => {
  const { limit, advance } = limiter();
  for (let i = 0; i < 4; i++) {
    assert.deepEqual(limit.check(KEYS), { locked: false });
    assert.deepEqual(limit.fail(KEYS), { locked: false });
  }
  assert.deepEqual(limit.fail(KEYS), { locked: true, retryAfterS: 60 });
  advance(59_500);
  assert.deepEqual(limit.check(KEYS), { locked: true, retryAfterS: 1 });
  advance(500);
  assert.deepEqual(limit.check(KEYS), { locked: false });
});

void test('SignInLimiter: failures older than 5 min do not count', () => {
  const { limit, advance } = limiter();
  for (let i = 0; i < 4; i++) limit.fail(KEYS);
  advance(5 * 60_000);
  assert.deepEqual(limit.fail(KEYS), { locked: false });
});

void test('SignInLimiter: a repeated lock doubles, up to 15 min', () => {
  const { limit, advance } = limiter();
  const lockFor = (): number => {
    let verdict = limit.fail(KEYS);
    for (let i = 1; i < 5; i++) verdict = limit.fail(KEYS);
    assert.ok(verdict.locked);
    return verdict.retryAfterS;
  };
  const seen: number[] = [];
  for (let round = 0; round < 6; round++) {
    const s = lockFor();
    seen.push(s);
    advance(s * 1000);
  }
  assert.deepEqual(seen, [60, 120, 240, 480, 900, 900]);
  // Quiet for 15 min after the lock ends: the next lock is back to 60 s.
  advance(15 * 60_000);
  assert.equal(lockFor(), 60);
});

void test('SignInLimiter: one key locked is enough; a success clears its keys', () => {
  const { limit } = limiter();
  // Five different addresses trying one user name lock the name for all of them.
  for (let i = 0; i < 5; i++) limit.fail([`addr:10.0.0.${i}`, 'user:root']);
  assert.equal(limit.check(['addr:10.0.0.99', 'user:root']).locked, true);
  assert.equal(limit.check(['addr:10.0.0.99', 'user:anna']).locked, false);
  for (let i = 0; i < 4; i++) limit.fail(KEYS);
  limit.succeed(KEYS);
  assert.deepEqual(limit.fail(KEYS), { locked: false }, 'the count started again');
});

void test('SignInLimiter: memory stays bounded under many user names', () => {
  let now = 0;
  const limit = new SignInLimiter({ now: () => now, maxKeys: 100 });
  for (let i = 0; i < 1000; i++) {
    now += 10;
    limit.fail([`user:u${i}`]);
  }
  // The most recent ones are still counted.
  for (let i = 0; i < 4; i++) limit.fail(['user:u999']);
  assert.equal(limit.check(['user:u999']).locked, true);
});
