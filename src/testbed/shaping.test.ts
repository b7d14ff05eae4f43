import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { burstBytes, parseRate, tbfArgs } from './shaping.js';

test('parseRate() reads tc rates in bits per second', () => {
  assert.equal(parseRate('80mbit'), 80e6);
  assert.equal(parseRate('1gbit'), 1e9);
  assert.equal(parseRate('500kbit'), 5e5);
  assert.equal(parseRate('1.5mbit'), 1.5e6);
  assert.equal(parseRate('10mbps'), 80e6);
  assert.equal(parseRate('64MBIT'), 64e6);
});

test('parseRate() refuses what tc would not take', () => {
  for (const bad of ['', 'fast', '80', 'mbit', '0mbit', '-1mbit', '80 mbit', '80mbitx', '1e6bit'])
    assert.throws(() => parseRate(bad), /Invalid rate/, bad);
});

test('tbfArgs() sizes the burst to 20 ms of the rate, at least 32 KiB', () => {
  assert.deepEqual(tbfArgs('80mbit'), [
    'tbf',
    'rate',
    '80mbit',
    'burst',
    '200000',
    'latency',
    '100ms',
  ]);
  assert.equal(burstBytes(1e6), 32 * 1024);
  assert.equal(burstBytes(8e9), 20_000_000);
});
