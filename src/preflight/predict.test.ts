import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FIXED_FINISH_MS,
  FIXED_START_MS,
  POSTCOPY_DOWNTIME_MS,
  predictMigration,
  recommendedConnections,
  type PredictionInput,
} from './predict.js';

const MiB = 1024 * 1024;
const base: PredictionInput = {
  memoryBytes: 1024 * MiB,
  residentBytes: 256 * MiB,
  bandwidthBytesPerSecond: 100 * MiB,
  dirtyBytesPerSecond: 0,
  maxDowntimeMs: 300,
  autoConverge: false,
  postcopy: false,
};

describe('predictMigration', () => {
  it('an idle guest converges after the bulk pass, in about resident / bandwidth', () => {
    const p = predictMigration(base);
    assert.equal(p.converges, true);
    assert.equal(p.passes, 1);
    assert.deepEqual(p.recommendations, []);
    const transfer = (p.totalMs ?? 0) - FIXED_START_MS - FIXED_FINISH_MS;
    // 256 MiB at 100 MiB/s is 2.56 s; the zero pages add a little.
    assert.ok(transfer > 2560 && transfer < 2900, `transfer ${transfer} ms`);
    // The link is the limit: QEMU stops the guest with part of the threshold left to send.
    assert.ok((p.downtimeMs ?? 0) > 150 && (p.downtimeMs ?? 0) <= 330, `downtime ${p.downtimeMs}`);
    assert.match(p.reason, /converges in 1 pass$/);
  });

  it('zero pages cost far less than touched ones', () => {
    const touched = predictMigration({ ...base, residentBytes: 1024 * MiB });
    const idle = predictMigration(base);
    assert.ok((touched.totalMs ?? 0) > (idle.totalMs ?? 0) + 7000);
  });

  it('a dirtying guest below the link converges in more passes, taking longer', () => {
    const idle = predictMigration(base);
    const p = predictMigration({ ...base, dirtyBytesPerSecond: 20 * MiB });
    assert.equal(p.converges, true);
    assert.ok((p.passes ?? 0) > 1, `passes ${p.passes}`);
    assert.ok((p.totalMs ?? 0) > (idle.totalMs ?? 0));
    assert.ok((p.downtimeMs ?? Infinity) <= 300 + 50);
  });

  it('a small working set is resent at most once per pass, whatever the rate', () => {
    const p = predictMigration({
      ...base,
      dirtyBytesPerSecond: 500 * MiB,
      dirtyWorkingSetBytes: 16 * MiB,
    });
    assert.equal(p.converges, true);
    assert.ok((p.downtimeMs ?? 0) >= 160, `downtime ${p.downtimeMs}`);
  });

  it('a dirty rate above the link never converges and nothing given rescues it', () => {
    const p = predictMigration({
      ...base,
      bandwidthBytesPerSecond: 8 * MiB,
      dirtyBytesPerSecond: 40 * MiB,
    });
    assert.equal(p.converges, false);
    assert.equal(p.totalMs, undefined);
    assert.equal(p.downtimeMs, undefined);
    assert.equal(p.reason, 'dirty rate 40 MiB/s ≥ link 8.0 MiB/s: pre-copy will not converge');
    assert.deepEqual(p.recommendations, ['--postcopy --timeout 30 --timeout-postcopy', '--auto']);
  });

  it('a dirty rate near the link: --auto-converge, and with it given the throttle converges', () => {
    const near = { ...base, bandwidthBytesPerSecond: 10 * MiB, dirtyBytesPerSecond: 12 * MiB };
    const p = predictMigration(near);
    assert.equal(p.converges, false);
    assert.deepEqual(p.recommendations, ['--auto-converge', '--auto']);
    const throttled = predictMigration({ ...near, autoConverge: true });
    assert.equal(throttled.converges, false);
    assert.ok(throttled.totalMs !== undefined && throttled.totalMs > 0);
    assert.ok((throttled.passes ?? 0) > 2);
    assert.match(throttled.reason, /--auto-converge throttles/);
  });

  it('recommends a larger max downtime when a slightly larger one converges', () => {
    // 100 MiB/s, 9 MiB working set dirtied faster than the link: 9 MiB needs ~90 ms… at
    // 20 ms of downtime it does not fit, at 100 ms it does.
    const p = predictMigration({
      ...base,
      dirtyBytesPerSecond: 200 * MiB,
      dirtyWorkingSetBytes: 9 * MiB,
      maxDowntimeMs: 20,
      domainName: 'guest1',
    });
    assert.equal(p.converges, false);
    assert.deepEqual(p.recommendations, ['migrate-setmaxdowntime guest1 100', '--auto']);
  });

  it('post-copy given: finishes after the switch with a short downtime', () => {
    const p = predictMigration({
      ...base,
      bandwidthBytesPerSecond: 8 * MiB,
      dirtyBytesPerSecond: 40 * MiB,
      postcopy: true,
      postcopyAfterMs: 30_000,
    });
    assert.equal(p.converges, false);
    assert.equal(p.downtimeMs, POSTCOPY_DOWNTIME_MS);
    assert.ok((p.totalMs ?? 0) > 30_000);
    assert.match(
      p.reason,
      /post-copy finishes it after 32\.\d s|post-copy finishes it after 30\.0 s/,
    );
  });

  it('an unmeasured dirty rate is assumed 0 and says so, recommending --auto', () => {
    const p = predictMigration({ ...base, dirtyBytesPerSecond: undefined });
    assert.equal(p.converges, true);
    assert.deepEqual(p.recommendations, ['--auto']);
    assert.match(p.reason, /not measured/);
  });

  it('parallel connections: one per 10 Gbps, at least 2', () => {
    assert.equal(recommendedConnections(100 * MiB), 2);
    assert.equal(recommendedConnections(40e9 / 8), 4);
    const fast = { ...base, bandwidthBytesPerSecond: 40e9 / 8 };
    assert.deepEqual(predictMigration(fast).recommendations, [
      '--parallel --parallel-connections 4',
    ]);
    assert.deepEqual(predictMigration({ ...fast, parallelConnections: 2 }).recommendations, [
      '--parallel --parallel-connections 4',
    ]);
    assert.deepEqual(predictMigration({ ...fast, parallelConnections: 4 }).recommendations, []);
  });

  it('a link faster than QEMU sends is not what limits the time', () => {
    const fast = predictMigration({ ...base, bandwidthBytesPerSecond: 2000 * MiB });
    const faster = predictMigration({ ...base, bandwidthBytesPerSecond: 4000 * MiB });
    assert.equal(fast.totalMs, faster.totalMs);
    assert.match(fast.reason, /< stream 230 MiB\/s \(QEMU's limit; link 2000 MiB\/s\)/);
  });

  it('no bandwidth: never converges', () => {
    const p = predictMigration({ ...base, bandwidthBytesPerSecond: 0 });
    assert.equal(p.converges, false);
    assert.equal(p.totalMs, undefined);
  });
});
