/**
 * The link measurement between two hosts through their real ferryds (link.openSink on the
 * destination, measureLink from the source's network namespace) reads a `tc tbf` shape: a
 * check that the measurement is right, not a speed target.
 * @module
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRate } from '../../src/testbed/shaping.js';
import type { TestbedHost } from '../../src/testbed/index.js';
import { measureLinkBetween } from '../helpers/measure-link.js';
import { useTestbed } from '../helpers/testbed.js';

void test('measureLink between two testbed hosts reads the tbf shape within 30 %', async (t) => {
  const tb = await useTestbed(t, { hosts: 2 });
  const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
  for (const shape of ['64mbit', '200mbit']) {
    await h2.shape(shape);
    const m = await measureLinkBetween(h1, h2, 2);
    const expected = parseRate(shape) / 8;
    const ratio = m.bytesPerSecond / expected;
    t.diagnostic(
      `${shape}: ${(m.bytesPerSecond / 1e6).toFixed(2)} MB/s, ratio ${ratio.toFixed(3)}`,
    );
    assert.ok(m.port >= 49152 && m.port <= 49215, `port ${m.port} in the migration range`);
    assert.ok(ratio > 0.7 && ratio < 1.3, `${shape}: measured ${m.bytesPerSecond} B/s`);
    assert.ok(m.durationMs > 1000, `timed on the receiving side: ${m.durationMs} ms`);
  }
  // The other way round, through the shaped link too.
  const back = await measureLinkBetween(h2, h1, 2);
  const ratio = back.bytesPerSecond / (parseRate('200mbit') / 8);
  assert.ok(ratio > 0.7 && ratio < 1.3, `back: measured ${back.bytesPerSecond} B/s`);
});
