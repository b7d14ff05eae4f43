import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MIGRATION_WATCH_MS, loadConfig } from './config.js';

function withConfig(t: { after: (fn: () => void) => void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-conf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ferryd.conf');
  writeFileSync(file, text);
  return file;
}

test('migration_watch_ms defaults to one second; 0 turns the watch off', (t) => {
  const flags = { stateDir: '/s', runDir: '/r' };
  assert.equal(
    loadConfig({ ...flags, config: withConfig(t, '') }).migrationWatchMs,
    DEFAULT_MIGRATION_WATCH_MS,
  );
  assert.equal(DEFAULT_MIGRATION_WATCH_MS, 1000);
  const off = withConfig(t, 'migration_watch_ms = 0   # no watch\n');
  assert.equal(loadConfig({ ...flags, config: off }).migrationWatchMs, 0);
  const long = withConfig(t, 'migration_watch_ms = 5000\n');
  assert.equal(loadConfig({ ...flags, config: long }).migrationWatchMs, 5000);
});

test('migration_watch_ms refuses a negative, huge or quoted value, naming the setting', (t) => {
  const flags = { stateDir: '/s', runDir: '/r' };
  const load = (text: string): unknown => loadConfig({ ...flags, config: withConfig(t, text) });
  assert.throws(() => load('migration_watch_ms = -1\n'), /migration_watch_ms -1 is out of range/);
  assert.throws(() => load('migration_watch_ms = 999999999\n'), /out of range/);
  assert.throws(
    () => load('migration_watch_ms = "1000"\n'),
    /'migration_watch_ms' .* must be a number/,
  );
});

test('postcopy_auto_resume defaults to on; 0 leaves a paused post-copy to migrate --postcopy-resume', (t) => {
  const flags = { stateDir: '/s', runDir: '/r' };
  const load = (text: string): boolean =>
    loadConfig({ ...flags, config: withConfig(t, text) }).postcopyAutoResume;
  assert.equal(load(''), true);
  assert.equal(load('postcopy_auto_resume = 1\n'), true);
  assert.equal(load('postcopy_auto_resume = 0\n'), false);
  assert.throws(
    () => load('postcopy_auto_resume = 2\n'),
    /'postcopy_auto_resume' .* must be 0 or 1, not 2/,
  );
  assert.throws(() => load('postcopy_auto_resume = "yes"\n'), /must be a number/);
});
