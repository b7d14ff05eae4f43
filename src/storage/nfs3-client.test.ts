import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { callMessage, replyResults, XdrReader, XdrWriter } from './nfs3-client.js';

test('XDR: words are big-endian, opaque data is length-prefixed and padded to 4 bytes', () => {
  const b = new XdrWriter()
    .uint(1)
    .string('abcde')
    .opaque(Buffer.alloc(0))
    .uint(0xffffffff)
    .bytes();
  assert.equal(
    b.toString('hex'),
    '00000001' + '00000005' + '6162636465000000' + '00000000' + 'ffffffff',
  );
  const r = new XdrReader(b);
  assert.equal(r.uint(), 1);
  assert.equal(r.opaque().toString(), 'abcde');
  assert.equal(r.opaque().length, 0);
  assert.equal(r.uint(), 0xffffffff);
  assert.throws(() => r.uint(), { code: 'SYSTEM_ERROR' });
  assert.throws(() => new XdrReader(Buffer.from('00000009aa', 'hex')).opaque(), {
    code: 'SYSTEM_ERROR',
  });
});

test('callMessage: one last fragment, RPC v2 call, AUTH_SYS root credentials, AUTH_NONE verifier', () => {
  const args = new XdrWriter().uint(7).bytes();
  const m = callMessage(42, 100003, 3, 12, args);
  const mark = m.readUInt32BE(0);
  assert.equal(mark >>> 31, 1);
  assert.equal(mark & 0x7fffffff, m.length - 4);
  const r = new XdrReader(m.subarray(4));
  assert.deepEqual(
    [r.uint(), r.uint(), r.uint(), r.uint(), r.uint(), r.uint()],
    [42, 0, 2, 100003, 3, 12],
  );
  assert.equal(r.uint(), 1); // AUTH_SYS
  const cred = new XdrReader(r.opaque());
  cred.uint(); // stamp
  assert.equal(cred.opaque().toString(), 'ferry');
  assert.deepEqual([cred.uint(), cred.uint(), cred.uint()], [0, 0, 0]); // uid, gid, no gids
  assert.deepEqual([r.uint(), r.opaque().length], [0, 0]);
  assert.equal(r.uint(), 7);
});

/** A reply header: xid, REPLY, MSG_ACCEPTED or DENIED, AUTH_NONE verifier, accept_stat. */
const reply = (xid: number, words: number[]): Buffer => {
  const w = new XdrWriter();
  for (const n of [xid, 1, ...words]) w.uint(n);
  return w.bytes();
};

test('replyResults returns the results of a successful reply and refuses every other reply', () => {
  const ok = Buffer.concat([reply(5, [0, 0, 0, 0]), new XdrWriter().uint(2049).bytes()]);
  assert.equal(replyResults(5, ok, 'getport').uint(), 2049);
  assert.throws(() => replyResults(6, ok, 'getport'), /not a reply to our call/);
  assert.throws(() => replyResults(5, reply(5, [1, 1, 0]), 'x'), /RPC call denied/);
  assert.throws(() => replyResults(5, reply(5, [0, 0, 0, 1]), 'x'), /accept_stat 1/);
  assert.throws(() => replyResults(5, reply(5, [0]), 'x'), /truncated/);
});
