import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FerryError } from './errors.js';
import { formatCapacity, parseSize } from './size.js';

void test('parseSize() reads virsh suffixes: binary alone or with iB, decimal with B', () => {
  assert.equal(parseSize('100'), 100);
  assert.equal(parseSize('1k'), 1024);
  assert.equal(parseSize('512M'), 512 * 1024 ** 2);
  assert.equal(parseSize('1G'), 1024 ** 3);
  assert.equal(parseSize('10GiB'), 10 * 1024 ** 3);
  assert.equal(parseSize('1KB'), 1000);
  assert.equal(parseSize('2gb'), 2e9);
  assert.equal(parseSize('7bytes'), 7);
  assert.equal(parseSize('1T'), 1024 ** 4);
});

void test('parseSize() refuses what virsh refuses, with its two lines', () => {
  const reason = (text: string): [string, string | undefined] => {
    try {
      parseSize(text);
    } catch (err) {
      assert.ok(err instanceof FerryError);
      return [err.message, err.cause instanceof Error ? err.cause.message : undefined];
    }
    assert.fail(`${text} was accepted`);
  };
  assert.deepEqual(reason('10Q'), ['Malformed size 10Q', "invalid argument: unknown suffix 'Q'"]);
  assert.deepEqual(reason('1.5G'), [
    'Malformed size 1.5G',
    "invalid argument: unknown suffix '.5G'",
  ]);
  assert.deepEqual(reason('abc'), ['Malformed size abc', undefined]);
  assert.deepEqual(reason('-1'), ['Malformed size -1', undefined]);
  assert.equal(reason('100000E')[1], 'invalid argument: value too large: 100000E');
});

void test('formatCapacity() prints as vshPrettyCapacity does', () => {
  assert.equal(formatCapacity(100), '100.00 B');
  assert.equal(formatCapacity(1024), '1.00 KiB');
  assert.equal(formatCapacity(200704), '196.00 KiB');
  assert.equal(formatCapacity(512 * 1024 ** 2), '512.00 MiB');
  assert.equal(formatCapacity(270553174016), '251.97 GiB');
  assert.equal(formatCapacity(24494514176), '22.81 GiB');
});
