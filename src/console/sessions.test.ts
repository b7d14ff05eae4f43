import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, SessionStore } from './sessions.js';

/** A store on a clock the test moves by hand. */
function store(): { sessions: SessionStore; advance: (ms: number) => void } {
  let now = 1_000_000;
  const sessions = new SessionStore({ now: () => now, sweepMs: 0 });
  return { sessions, advance: (ms) => (now += ms) };
}

void test('SessionStore: a session has a 256-bit token and its own CSRF token', () => {
  const { sessions } = store();
  const a = sessions.create('anna');
  const b = sessions.create('anna');
  assert.match(a.token, /^[A-Za-z0-9_-]{43}$/);
  assert.match(a.csrf, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.token, b.token);
  assert.notEqual(a.token, a.csrf);
  assert.equal(sessions.use(a.token)?.user, 'anna');
  assert.equal(sessions.use('forged'), undefined);
  assert.equal(sessions.use(undefined), undefined);
});

void test('SessionStore: idle for 30 min ends a session; use keeps it alive', () => {
  const { sessions, advance } = store();
  const s = sessions.create('anna');
  advance(SESSION_IDLE_MS - 1);
  assert.ok(sessions.use(s.token), 'used just before the idle limit');
  advance(SESSION_IDLE_MS - 1);
  assert.ok(sessions.use(s.token), 'the idle time counts from the last use');
  advance(SESSION_IDLE_MS);
  assert.equal(sessions.use(s.token), undefined);
  assert.equal(sessions.size, 0);
});

void test('SessionStore: 12 h after sign-in a session ends however busy it is', () => {
  const { sessions, advance } = store();
  const s = sessions.create('anna');
  let closed = 0;
  sessions.attach(s.token, () => closed++);
  for (let t = 20 * 60_000; t < SESSION_ABSOLUTE_MS; t += 20 * 60_000) {
    advance(20 * 60_000);
    assert.ok(sessions.use(s.token));
  }
  advance(60 * 60_000);
  sessions.sweep();
  assert.equal(sessions.use(s.token), undefined);
  assert.equal(closed, 1, 'its socket was closed');
});

void test('SessionStore: an open WebSocket keeps a session from going idle; ending closes sockets', () => {
  const { sessions, advance } = store();
  const s = sessions.create('anna');
  const closed: string[] = [];
  const detachA = sessions.attach(s.token, () => closed.push('a'));
  sessions.attach(s.token, () => closed.push('b'));
  advance(2 * SESSION_IDLE_MS);
  sessions.sweep();
  assert.ok(sessions.use(s.token), 'sockets open: not idle');
  detachA();
  sessions.end(s.token);
  assert.deepEqual(closed, ['b']);
  assert.equal(sessions.use(s.token), undefined);
  // Attaching to an ended session closes the socket at once.
  sessions.attach(s.token, () => closed.push('late'));
  assert.deepEqual(closed, ['b', 'late']);
});

void test('SessionStore: the sweep ends idle sessions and close() ends all', () => {
  const { sessions, advance } = store();
  const idle = sessions.create('a');
  advance(SESSION_IDLE_MS);
  const fresh = sessions.create('b');
  sessions.sweep();
  assert.equal(sessions.size, 1);
  assert.equal(sessions.use(idle.token), undefined);
  assert.ok(sessions.use(fresh.token));
  sessions.close();
  assert.equal(sessions.size, 0);
});
