import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultForm, formToPlan, type MigrateForm } from './flags.js';

function plan(form: Partial<MigrateForm>, running = true) {
  const outcome = formToPlan({ ...defaultForm(running), ...form });
  if (!outcome.ok) throw new Error(outcome.error);
  return outcome.plan;
}

test("Temporary is virsh's default: neither persistent nor undefineSource", () => {
  const { flags, maxDowntimeMs } = plan({});
  assert.deepEqual(flags, {
    live: true,
    offline: false,
    persistent: false,
    undefineSource: false,
    copyStorageAll: false,
    copyStorageInc: false,
    autoConverge: false,
  });
  assert.equal(maxDowntimeMs, undefined);
});

test('Permanent sets persistent and undefineSource', () => {
  const { flags } = plan({ type: 'permanent' });
  assert.equal(flags.persistent, true);
  assert.equal(flags.undefineSource, true);
});

test('Live unchecked is an offline migration; a shut-off guest starts unchecked', () => {
  assert.equal(defaultForm(false).live, false);
  const { flags } = plan({ live: false }, false);
  assert.equal(flags.offline, true);
  assert.equal(flags.live, false);
});

test("advanced fields map to the CLI's flags", () => {
  const { flags, maxDowntimeMs } = plan({
    copyStorage: 'inc',
    parallelConnections: '4',
    postcopyAfterSeconds: ' 30 ',
    autoConverge: true,
    automaticPolicy: true,
    bandwidthMiBs: '10',
    maxDowntimeMs: '500',
  });
  assert.equal(flags.copyStorageInc, true);
  assert.equal(flags.copyStorageAll, false);
  assert.equal(flags.parallel, true);
  assert.equal(flags.parallelConnections, 4);
  assert.equal(flags.postcopy, true);
  assert.equal(flags.timeout, 30);
  assert.equal(flags.timeoutPostcopy, true);
  assert.equal(flags.autoConverge, true);
  assert.equal(flags.auto, true);
  assert.equal(flags.bandwidth, 10);
  assert.equal(maxDowntimeMs, 500);
  assert.equal(plan({ copyStorage: 'all' }).flags.copyStorageAll, true);
});

test('empty optional fields leave their flags out entirely', () => {
  const { flags } = plan({});
  for (const key of ['parallel', 'parallelConnections', 'postcopy', 'timeout', 'bandwidth', 'auto'])
    assert.equal(key in flags, false, key);
});

test('a field that is not a whole number in range is refused, naming the field', () => {
  for (const [field, value, message] of [
    ['parallelConnections', '0', /Parallel connections must be a whole number from 1 to 255/],
    ['parallelConnections', '256', /Parallel connections/],
    ['bandwidthMiBs', '1.5', /Bandwidth limit \(MiB\/s\)/],
    ['postcopyAfterSeconds', '-3', /Post-copy after \(s\)/],
    ['maxDowntimeMs', 'abc', /Max downtime \(ms\)/],
  ] as const) {
    const outcome = formToPlan({ ...defaultForm(true), [field]: value });
    assert.ok(!outcome.ok, `${field} = ${value}`);
    assert.match(outcome.error, message);
  }
});
