import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameError,
  encodeFrame,
  type JsonObject,
} from './framing.js';
import { StreamTransport } from './transport/stream.js';

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const c of chunks) decoder.push(c, (f) => out.push(f));
  return out;
}

function frameError(fn: () => void): FrameError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FrameError, `expected a FrameError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a FrameError');
}

void test('frames split across chunks, even inside a multi-byte character, are reassembled', () => {
  const bytes = Buffer.from('{"text":"héllo 🚢"}\n{"n":2}\n');
  const chunks = [...bytes].map((b) => Uint8Array.of(b));
  assert.deepEqual(decodeAll(new FrameDecoder(), chunks), [{ text: 'héllo 🚢' }, { n: 2 }]);
});

void test('many frames in one chunk are delivered in order; blank and CRLF lines are tolerated', () => {
  const chunk = Buffer.from('{"a":1}\n\n{"a":2}\r\n  \n{"a":3}\n{"a":');
  const decoder = new FrameDecoder();
  assert.deepEqual(decodeAll(decoder, [chunk]), [{ a: 1 }, { a: 2 }, { a: 3 }]);
  assert.equal(decoder.pendingBytes, 5);
  assert.deepEqual(decodeAll(decoder, [Buffer.from('4}\n')]), [{ a: 4 }]);
  assert.equal(decoder.pendingBytes, 0);
});

void test('a frame of exactly the limit passes; one byte more is refused', () => {
  const frame = Buffer.from('{"x":"1234"}'); // 12 bytes
  assert.deepEqual(decodeAll(new FrameDecoder(12), [frame, Buffer.from('\n')]), [{ x: '1234' }]);
  const err = frameError(() => decodeAll(new FrameDecoder(11), [frame, Buffer.from('\n')]));
  assert.equal(err.reason, 'oversize');
  assert.equal(err.code, 'INVALID_REQUEST');
  assert.equal(err.message, 'Frame exceeds the maximum size of 11 bytes');
});

void test('a partial line is refused as soon as it exceeds the limit, without waiting for a newline', () => {
  const decoder = new FrameDecoder(100);
  decoder.push(Buffer.alloc(60, 0x20), () => undefined);
  const err = frameError(() => {
    decoder.push(Buffer.alloc(60, 0x20), () => undefined);
  });
  assert.equal(err.reason, 'oversize');
});

void test('frames before a bad frame are delivered, then the bad one throws', () => {
  const got: JsonObject[] = [];
  const err = frameError(() => {
    new FrameDecoder().push(Buffer.from('{"ok":1}\nnot json\n{"ok":2}\n'), (f) => got.push(f));
  });
  assert.deepEqual(got, [{ ok: 1 }]);
  assert.equal(err.reason, 'json');
  assert.equal(err.code, 'PARSE_ERROR');
  assert.match(err.message, /^Frame is not valid JSON: /);
});

void test('invalid UTF-8 and non-object JSON are refused', () => {
  const utf8 = frameError(() =>
    decodeAll(new FrameDecoder(), [Buffer.from([0x7b, 0xff, 0x7d, 0x0a])]),
  );
  assert.equal(utf8.reason, 'utf8');
  assert.equal(utf8.message, 'Frame is not valid UTF-8');
  for (const text of ['[{"jsonrpc":"2.0"}]', '42', '"s"', 'null']) {
    const err = frameError(() => decodeAll(new FrameDecoder(), [Buffer.from(`${text}\n`)]));
    assert.equal(err.reason, 'not-object', text);
    assert.equal(err.message, 'Frame is not a JSON object');
  }
});

void test('encodeFrame() appends a newline and refuses oversize or unserializable messages', () => {
  assert.equal(encodeFrame({ s: 'a\nb' }).toString(), '{"s":"a\\nb"}\n');
  assert.equal(frameError(() => encodeFrame({ s: 'x'.repeat(20) }, 10)).reason, 'oversize');
  assert.equal(frameError(() => encodeFrame({ n: 1n })).reason, 'json');
  assert.equal(DEFAULT_MAX_FRAME_BYTES, 16 * 1024 * 1024);
  assert.throws(() => new FrameDecoder(0), /Invalid maximum frame size/);
});

void test('StreamTransport answers a bad frame with an id-null error, then closes', async () => {
  const stream = new PassThrough();
  const written: Buffer[] = [];
  // Capture what the transport writes by intercepting write() on the PassThrough.
  stream.write = ((chunk: Buffer) => {
    written.push(chunk);
    return true;
  }) as typeof stream.write;
  const transport = new StreamTransport(stream, { peer: 'test' });
  const messages: JsonObject[] = [];
  transport.onMessage((m) => messages.push(m));
  const closed = new Promise<unknown>((resolve) => transport.onClose(resolve));
  stream.emit('data', Buffer.from('{"jsonrpc":"2.0","method":"a"}\n{oops\n{"never":1}\n'));
  const reason = await closed;
  assert.ok(reason instanceof FrameError);
  assert.deepEqual(messages, [{ jsonrpc: '2.0', method: 'a' }]);
  assert.equal(transport.closed, true);
  const reply = JSON.parse(Buffer.concat(written).toString()) as JsonObject;
  assert.deepEqual(reply['id'], null);
  assert.deepEqual((reply['error'] as JsonObject)['code'], -32700);
  transport.send({ dropped: true }); // sending after close is a silent no-op
  assert.equal(written.length, 1);
  stream.destroy();
});
