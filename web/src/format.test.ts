import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatKiB, formatMs, formatRate, formatSeconds } from './format.js';

test('sizes use the largest binary unit, whole numbers without a decimal', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1 KiB');
  assert.equal(formatKiB(262144), '256 MiB');
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GiB');
  assert.equal(formatBytes(-1), '—');
});

test('rates read like the CLI: one decimal, per second', () => {
  assert.equal(formatRate(35.2 * 1024 * 1024), '35.2 MiB/s');
  assert.equal(formatRate(0), '0 B/s');
});

test('durations round up and pad the smaller unit', () => {
  assert.equal(formatSeconds(0), '0 s');
  assert.equal(formatSeconds(11.2), '12 s');
  assert.equal(formatSeconds(185), '3 min 05 s');
  assert.equal(formatSeconds(3720), '1 h 02 min');
  assert.equal(formatSeconds(undefined), '—');
  assert.equal(formatSeconds(Number.POSITIVE_INFINITY), '—');
});

test('milliseconds stay milliseconds below a second', () => {
  assert.equal(formatMs(350), '350 ms');
  assert.equal(formatMs(12_345), '12.3 s');
  assert.equal(formatMs(125_000), '2 min 05 s');
  assert.equal(formatMs(undefined), '—');
});
