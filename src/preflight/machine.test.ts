import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FerryError } from '../common/errors.js';
import type { QemuHostFacts } from '../qemu/probe.js';
import {
  checkMachineOnHost,
  checkMachineTypeForStart,
  globMatches,
  machineTypeAllowed,
  versionedMachine,
} from './machine.js';

const FACTS: QemuHostFacts = {
  binary: 'qemu-system-x86_64',
  version: '7.2.22',
  accel: 'tcg',
  machines: [
    { name: 'pc-i440fx-7.2', alias: 'pc', isDefault: true, deprecated: false },
    { name: 'pc-i440fx-7.1', isDefault: false, deprecated: false },
    { name: 'pc-q35-7.2', alias: 'q35', isDefault: false, deprecated: false },
    { name: 'pc-i440fx-1.4', isDefault: false, deprecated: true },
  ],
  cpuDefinitions: [],
  maxCpu: { name: 'max', props: {} },
  probedAt: '',
};
const ALL = { globs: undefined, origin: 'the defaults' };
const Q35 = { globs: ['pc-q35-*'], origin: '/etc/ferry/ferryd.conf' };

test('globMatches() matches whole names with * and ?', () => {
  assert.ok(globMatches('pc-q35-*', 'pc-q35-7.2'));
  assert.ok(!globMatches('pc-q35-*', 'pc-i440fx-7.2'));
  assert.ok(globMatches('pc-i440fx-7.?', 'pc-i440fx-7.2'));
  assert.ok(!globMatches('pc', 'pc-i440fx-7.2'));
  assert.ok(machineTypeAllowed('anything', ALL));
});

test('checkMachineOnHost(): a live guest needs the exact versioned type', () => {
  assert.deepEqual(checkMachineOnHost(FACTS, 'pc-i440fx-7.1', false, ALL), {
    verdict: 'pass',
    reason: 'pc-i440fx-7.1 is offered by QEMU 7.2.22 on the destination',
  });
  assert.deepEqual(checkMachineOnHost(FACTS, 'pc-i440fx-8.0', false, ALL), {
    verdict: 'fail',
    reason: "QEMU 7.2.22 on the destination lacks machine type 'pc-i440fx-8.0'",
  });
  assert.equal(checkMachineOnHost(FACTS, 'pc-i440fx-1.4', false, ALL).verdict, 'warn');
});

test('checkMachineOnHost(): offline, the alias resolves on the destination', () => {
  assert.equal(
    checkMachineOnHost(FACTS, 'q35', true, ALL).reason,
    'q35 (pc-q35-7.2) is offered by QEMU 7.2.22 on the destination',
  );
});

test('checkMachineOnHost() and checkMachineTypeForStart() honour machine_types', () => {
  const v = checkMachineOnHost(FACTS, 'pc-i440fx-7.2', false, Q35);
  assert.equal(v.verdict, 'fail');
  assert.equal(
    v.reason,
    "destination: machine type 'pc-i440fx-7.2' is not supported on this host (machine_types in /etc/ferry/ferryd.conf: pc-q35-*)",
  );
  assert.equal(checkMachineOnHost(FACTS, 'pc-q35-7.2', false, Q35).verdict, 'pass');
  assert.equal(versionedMachine(FACTS, 'pc'), 'pc-i440fx-7.2');
  assert.throws(
    () => checkMachineTypeForStart(FACTS, 'pc', Q35),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === 'CONFIG_UNSUPPORTED' &&
      /pc-i440fx-7\.2/.test(e.message),
  );
  checkMachineTypeForStart(FACTS, 'q35', Q35);
  checkMachineTypeForStart(FACTS, 'pc', ALL);
});
