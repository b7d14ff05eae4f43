import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ferryVersionVerdict,
  machineFamily,
  parseVersion,
  qemuVersionVerdict,
  versionsVerdict,
} from './support-matrix.js';

test('parseVersion() reads QEMU and Ferry versions', () => {
  assert.deepEqual(parseVersion('7.2.22'), { major: 7, minor: 2, micro: 22 });
  assert.deepEqual(parseVersion('8.0'), { major: 8, minor: 0, micro: 0 });
  assert.equal(parseVersion('unknown'), undefined);
});

test('machineFamily() knows the aliases and the versioned names', () => {
  assert.equal(machineFamily('pc'), 'i440fx');
  assert.equal(machineFamily('pc-i440fx-7.2'), 'i440fx');
  assert.equal(machineFamily('q35'), 'q35');
  assert.equal(machineFamily('pc-q35-8.1'), 'q35');
  assert.equal(machineFamily('microvm'), 'other');
});

test('qemuVersionVerdict() follows the matrix for each pair and family', () => {
  const cases: [string, string, 'i440fx' | 'q35', string, RegExp][] = [
    ['7.2.22', '7.2.22', 'i440fx', 'pass', /^QEMU 7\.2\.22 → 7\.2\.22: same release, supported$/],
    ['7.2.0', '7.2.22', 'q35', 'pass', /forward stable release/],
    ['7.2.22', '7.2.0', 'i440fx', 'pass', /backward stable release/],
    ['7.1.0', '7.2.0', 'i440fx', 'pass', /forward minor 7\.1 → 7\.2, supported/],
    ['7.2.0', '7.1.0', 'q35', 'pass', /backward minor 7\.2 → 7\.1, supported/],
    ['7.2.0', '7.1.0', 'i440fx', 'fail', /backward minor 7\.2 → 7\.1 \(i440fx\): unsupported/],
    ['7.2.0', '8.0.0', 'i440fx', 'pass', /forward major 7\.2 → 8\.0, supported/],
    ['8.1.0', '7.2.0', 'q35', 'fail', /backward major 8\.1 → 7\.2 \(q35\): unsupported/],
    ['6.2.0', '8.0.0', 'q35', 'warn', /forward across 2 major releases/],
  ];
  for (const [src, dst, family, verdict, reason] of cases) {
    const v = qemuVersionVerdict(src, dst, family);
    assert.equal(v.verdict, verdict, `${src} → ${dst} ${family}: ${v.reason}`);
    assert.match(v.reason, reason);
  }
});

test('qemuVersionVerdict() warns for machine types outside the matrix and unreadable versions', () => {
  assert.equal(qemuVersionVerdict('7.2.0', '7.2.0', 'other').verdict, 'warn');
  assert.equal(qemuVersionVerdict('7.2.0', 'unknown', 'q35').verdict, 'warn');
});

test('ferryVersionVerdict(): 0.x needs the same minor; 1.x any minor; majors never mix', () => {
  assert.equal(ferryVersionVerdict('0.1.0', '0.1.3').verdict, 'pass');
  assert.match(
    ferryVersionVerdict('0.1.0', '0.2.0').reason,
    /0\.x releases promise no compatibility/,
  );
  assert.equal(ferryVersionVerdict('0.1.0', '0.2.0').verdict, 'fail');
  assert.equal(ferryVersionVerdict('1.2.0', '1.4.0').verdict, 'pass');
  assert.equal(ferryVersionVerdict('1.4.0', '1.2.0').verdict, 'pass');
  assert.match(
    ferryVersionVerdict('2.0.0', '1.9.0').reason,
    /backward major 2\.x → 1\.x: unsupported/,
  );
});

test('versionsVerdict() gives the worse half first', () => {
  const v = versionsVerdict(
    { source: '0.1.0', destination: '0.1.0' },
    { source: '8.1.0', destination: '7.2.0' },
    'i440fx',
  );
  assert.equal(v.verdict, 'fail');
  assert.match(
    v.reason,
    /^QEMU 8\.1\.0 → 7\.2\.0: backward major .*; Ferry 0\.1\.0 → 0\.1\.0: same release$/,
  );
});
