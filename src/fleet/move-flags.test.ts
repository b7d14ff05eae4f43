import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MigrateFlags } from '../rpc/schema/migration.js';
import { moveFlags as flagsOf } from './move-flags.js';

const moveFlags = (mode: 'live' | 'offline', persistent: boolean): MigrateFlags =>
  MigrateFlags.parse(flagsOf({ persistent }, mode));

void test('live moves use --auto and keep persistence; offline moves take the definition', () => {
  const live = moveFlags('live', true);
  assert.equal(live.live, true);
  assert.equal(live.auto, true);
  assert.equal(live.persistent, true);
  assert.equal(live.undefineSource, true);
  assert.equal(live.offline, false);
  const transient = moveFlags('live', false);
  assert.equal(transient.persistent, false);
  assert.equal(transient.undefineSource, false);
  const offline = moveFlags('offline', true);
  assert.equal(offline.offline, true);
  assert.equal(offline.live, false);
  assert.equal(offline.persistent, true);
  assert.equal(offline.undefineSource, true);
  assert.equal(offline.auto, undefined);
});
