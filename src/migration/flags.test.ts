import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MigrateFlags } from '../rpc/schema/migration.js';
import { FerryError } from '../common/errors.js';
import {
  bandwidthBytes,
  capabilitiesFor,
  checkFlags,
  checkResumeFlags,
  parametersFor,
  UNLIMITED_BANDWIDTH_MIBS,
} from './flags.js';

const flags = (f: Record<string, unknown>) => MigrateFlags.parse(f);
const running = { active: true, persistent: true };

test("checkFlags() accepts the chapter's commands", () => {
  checkFlags(flags({ live: true, persistent: true }), running);
  checkFlags(flags({ offline: true, persistent: true }), { active: false, persistent: true });
  checkFlags(
    flags({ live: true, persistent: true, parallel: true, parallelConnections: 4 }),
    running,
  );
  checkFlags(
    flags({ live: true, persistent: true, postcopy: true, timeout: 30, timeoutPostcopy: true }),
    running,
  );
  checkFlags(flags({ live: true, persistent: true, autoConverge: true }), running);
});

test('checkFlags() refuses combinations that cannot work, naming them', () => {
  const cases: [Record<string, unknown>, RegExp, { active: boolean; persistent: boolean }?][] = [
    [{ live: true, offline: true, persistent: true }, /--live and --offline/],
    [{ offline: true }, /requires --persistent/],
    [
      { offline: true, persistent: true, postcopy: true },
      /--postcopy cannot be used with --offline/,
    ],
    [{ live: true, postcopy: true, parallel: true }, /--postcopy and --parallel/],
    [{ live: true, undefineSource: true }, /transient domain/, { active: true, persistent: false }],
    [{ live: true }, /not running/, { active: false, persistent: true }],
    [{ live: true, timeoutPostcopy: true, timeout: 5 }, /--timeout-postcopy requires --postcopy/],
    [{ live: true, timeoutSuspend: true }, /require --timeout/],
    [{ live: true, parallelConnections: 4 }, /requires --parallel/],
    [{ live: true, autoConvergeInitial: 30 }, /require --auto-converge/],
    [{ live: true, postcopyAfterPrecopy: true }, /requires --postcopy/],
  ];
  for (const [f, pattern, facts] of cases) {
    assert.throws(
      () => checkFlags(flags(f), facts ?? running),
      (e: unknown) => e instanceof FerryError && pattern.test(e.message),
      JSON.stringify(f),
    );
  }
});

test('capabilitiesFor() and parametersFor() follow the flag table', () => {
  const f = flags({
    live: true,
    parallel: true,
    parallelConnections: 4,
    autoConverge: true,
    autoConvergeInitial: 30,
  });
  const on = (side: 'source' | 'destination'): string[] =>
    capabilitiesFor(f, side)
      .filter((c) => c.state)
      .map((c) => c.capability);
  assert.deepEqual(on('source'), ['events', 'multifd', 'auto-converge']);
  assert.deepEqual(on('destination'), ['events', 'multifd']);
  // The others are switched off explicitly, never left as an earlier job set them.
  assert.deepEqual(
    capabilitiesFor(f, 'source')
      .filter((c) => !c.state)
      .map((c) => c.capability),
    ['postcopy-ram', 'pause-before-switchover'],
  );
  // A storage copy: QEMU waits before the switch-over so the mirrors finish with the guest paused.
  const copy = capabilitiesFor(flags({ live: true, copyStorageAll: true }), 'source');
  assert.ok(copy.some((c) => c.capability === 'pause-before-switchover' && c.state));
  const tuning = { downtimeMs: 300, bandwidthMiBs: UNLIMITED_BANDWIDTH_MIBS };
  assert.deepEqual(parametersFor(f, 'destination', tuning), { 'multifd-channels': 4 });
  const src = parametersFor(f, 'source', tuning);
  assert.equal(src['multifd-channels'], 4);
  assert.equal(src['cpu-throttle-initial'], 30);
  assert.equal(src['downtime-limit'], 300);
  assert.equal(src['max-bandwidth'], Number.MAX_SAFE_INTEGER, 'unlimited, as libvirt sets it');
  assert.equal(
    parametersFor(flags({ live: true, parallel: true }), 'destination', tuning)['multifd-channels'],
    2,
    "the chapter's default",
  );
  assert.equal(
    parametersFor(flags({ live: true, bandwidth: 100 }), 'source', tuning)['max-bandwidth'],
    100 * 1024 * 1024,
  );
  assert.equal(bandwidthBytes(1), 1048576);
});

test('checkResumeFlags() takes what virsh users repeat and refuses what would change the job', () => {
  checkResumeFlags(flags({ postcopyResume: true }));
  checkResumeFlags(
    flags({
      postcopyResume: true,
      live: true,
      postcopy: true,
      persistent: true,
      undefineSource: true,
    }),
  );
  assert.throws(
    () => checkResumeFlags(flags({ postcopyResume: true, bandwidth: 50, timeout: 5 })),
    (err: unknown) =>
      err instanceof FerryError &&
      err.code === 'INVALID_ARG' &&
      err.message ===
        'Option --timeout, --bandwidth cannot be used with --postcopy-resume: the paused migration keeps the options it was started with',
  );
  assert.throws(
    () => checkResumeFlags(flags({ postcopyResume: true, offline: true })),
    /Option --offline cannot be used with --postcopy-resume/,
  );
});

test('checkFlags() refuses storage flags that cannot work together, naming them', () => {
  const refused = (f: Record<string, unknown>, re: RegExp): void =>
    assert.throws(
      () => checkFlags(MigrateFlags.parse(f), { active: true, persistent: true }),
      (e: unknown) => e instanceof FerryError && re.test(e.message),
    );
  refused({ live: true, copyStorageAll: true, copyStorageInc: true }, /mutually exclusive/);
  refused({ live: true, migrateDisks: ['vda'] }, /--migrate-disks requires --copy-storage-all/);
  refused({ live: true, disksPort: 49200 }, /--disks-port requires/);
  refused({ live: true, postcopy: true, copyStorageAll: true }, /cannot be combined/);
  refused(
    { offline: true, persistent: true, copyStorageInc: true },
    /--copy-storage-inc cannot be used with --offline/,
  );
  checkFlags(MigrateFlags.parse({ offline: true, persistent: true, copyStorageAll: true }), {
    active: false,
    persistent: true,
  });
});

test('--auto: bounds only with it, nothing it replaces, and both capabilities armed at the start', () => {
  checkFlags(
    flags({ live: true, auto: true, autoMaxDowntime: 1000, autoMaxThrottle: 50 }),
    running,
  );
  checkFlags(flags({ live: true, auto: true, postcopy: true, tls: true }), running);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ offline: true, persistent: true, auto: true }, /--auto and --offline/],
    [{ live: true, autoMaxDowntime: 1000 }, /require --auto$/],
    [{ live: true, auto: true, autoConverge: true }, /--auto-converge cannot be used with --auto/],
    [
      { live: true, auto: true, postcopy: true, postcopyAfterPrecopy: true },
      /--postcopy-after-precopy cannot be used with --auto/,
    ],
    [{ live: true, auto: true, timeout: 5 }, /--timeout cannot be used with --auto/],
  ];
  for (const [f, pattern] of cases)
    assert.throws(
      () => checkFlags(flags(f), running),
      (e: unknown) => e instanceof FerryError && pattern.test(e.message),
      JSON.stringify(f),
    );
  assert.throws(() => checkResumeFlags(flags({ postcopyResume: true, auto: true })), /--auto/);

  const on = (f: Record<string, unknown>, side: 'source' | 'destination'): string[] =>
    capabilitiesFor(flags(f), side)
      .filter((c) => c.state)
      .map((c) => c.capability);
  assert.deepEqual(on({ live: true, auto: true }, 'source'), [
    'events',
    'postcopy-ram',
    'auto-converge',
  ]);
  assert.deepEqual(on({ live: true, auto: true }, 'destination'), ['events', 'postcopy-ram']);
  // QEMU 7.2 has no post-copy over multifd, nor with disks being mirrored.
  assert.deepEqual(on({ live: true, auto: true, parallel: true }, 'source'), [
    'events',
    'multifd',
    'auto-converge',
  ]);
  assert.ok(
    !on({ live: true, auto: true, copyStorageAll: true }, 'source').includes('postcopy-ram'),
  );

  const tuning = { downtimeMs: 300, bandwidthMiBs: UNLIMITED_BANDWIDTH_MIBS };
  const dormant = parametersFor(flags({ live: true, auto: true }), 'source', tuning);
  assert.equal(dormant['cpu-throttle-initial'], 1);
  assert.equal(dormant['max-cpu-throttle'], 1);
  // Any other job gets QEMU's bound back, whatever an earlier --auto job left in that QEMU.
  assert.equal(parametersFor(flags({ live: true }), 'source', tuning)['max-cpu-throttle'], 99);
});
