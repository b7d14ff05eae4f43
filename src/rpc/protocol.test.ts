import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { z } from 'zod';
import { FerryError } from '../common/errors.js';
import {
  formatZodError,
  fromErrorObject,
  makeError,
  makeNotification,
  makeRequest,
  makeResult,
  parseMessage,
  toErrorObject,
} from './protocol.js';

void test('parseMessage() classifies the four envelope kinds', () => {
  assert.deepEqual(parseMessage({ ...makeRequest(1, 'a.b', { x: 1 }) }), {
    ok: true,
    message: { kind: 'request', id: 1, method: 'a.b', params: { x: 1 } },
  });
  assert.deepEqual(parseMessage({ ...makeNotification('ev') }), {
    ok: true,
    message: { kind: 'notification', method: 'ev', params: undefined },
  });
  assert.deepEqual(parseMessage({ ...makeResult('7', null) }), {
    ok: true,
    message: { kind: 'result', id: '7', result: null },
  });
  const err = parseMessage({
    ...makeError(null, new FerryError('NO_DOMAIN', 'Domain not found: x')),
  });
  assert.ok(err.ok && err.message.kind === 'error');
  assert.equal(err.message.error.code, -32011);
});

void test('parseMessage() is strict and recovers the id for the error reply', () => {
  const cases: [Record<string, unknown>, string | number | null][] = [
    [{ jsonrpc: '2.0', id: 3, method: 'a', extra: true }, 3],
    [{ jsonrpc: '1.0', id: 'x', method: 'a' }, 'x'],
    [{ jsonrpc: '2.0', id: 4, method: '' }, 4],
    [{ jsonrpc: '2.0', id: { no: 1 }, method: 'a' }, null],
    [{ jsonrpc: '2.0', id: 5, method: 'a', params: 'str' }, 5],
    [{ jsonrpc: '2.0', hello: 'world' }, null],
  ];
  for (const [frame, id] of cases) {
    const out = parseMessage(frame);
    assert.ok(!out.ok, JSON.stringify(frame));
    assert.equal(out.id, id);
    assert.equal(out.error.code, 'INVALID_REQUEST');
    assert.match(out.error.message, /^Invalid JSON-RPC message: /);
  }
});

void test('FerryError code, message, cause and data survive toErrorObject/fromErrorObject', () => {
  const original = new FerryError('XML_ERROR', 'Bad XML (line 3)', {
    cause: new Error('unexpected <'),
    data: { line: 3, name: 'ignored: name is reserved' },
  });
  const wire = toErrorObject(original);
  assert.deepEqual(wire, {
    code: -32010,
    message: 'Bad XML (line 3)',
    data: { line: 3, name: 'XML_ERROR', cause: 'unexpected <' },
  });
  const parsed = parseMessage({ jsonrpc: '2.0', id: 1, error: JSON.parse(JSON.stringify(wire)) });
  assert.ok(parsed.ok && parsed.message.kind === 'error');
  const rebuilt = fromErrorObject(parsed.message.error);
  assert.ok(rebuilt instanceof FerryError);
  assert.equal(rebuilt.code, 'XML_ERROR');
  assert.equal(rebuilt.message, 'Bad XML (line 3)');
  assert.equal(rebuilt.cause, 'unexpected <');
  assert.deepEqual(rebuilt.data, { line: 3 });
});

void test('fromErrorObject() falls back to the numeric code when data is missing or unknown', () => {
  assert.equal(fromErrorObject({ code: -32601, message: 'x' }).code, 'METHOD_NOT_FOUND');
  const parsed = parseMessage({
    jsonrpc: '2.0',
    id: 1,
    error: { code: -32011, message: 'x', data: { name: 'FUTURE_CODE' } },
  });
  assert.ok(parsed.ok && parsed.message.kind === 'error');
  assert.equal(fromErrorObject(parsed.message.error).code, 'NO_DOMAIN');
  assert.equal(fromErrorObject({ code: 12345, message: 'x' }).code, 'INTERNAL_ERROR');
});

void test('formatZodError() renders all issues on one line with their paths', () => {
  const schema = z.strictObject({ name: z.string(), opt: z.object({ a: z.boolean() }) });
  const result = schema.safeParse({ name: 1, opt: { a: 'x' }, extra: 1 });
  assert.ok(!result.success);
  const text = formatZodError(result.error);
  assert.doesNotMatch(text, /\n/);
  assert.match(text, /Unrecognized key: "extra"/);
  assert.match(text, /expected string, received number at name/);
  assert.match(text, /expected boolean, received string at opt\.a/);
});
