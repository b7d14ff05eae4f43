import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config.js';

function withConfig(text: string, fn: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-conf-'));
  try {
    const file = join(dir, 'ferryd.conf');
    writeFileSync(file, text);
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('keepalive defaults to libvirtd.conf\u2019s: a ping after 5 s of silence, dead after 5', () => {
  withConfig('', (config) => {
    assert.deepEqual(loadConfig({ config }).keepalive, { intervalMs: 5000, count: 5 });
  });
});

test('keepalive_interval and keepalive_count set it; keepalive_interval = -1 turns it off', () => {
  withConfig('keepalive_interval = 2\nkeepalive_count = 3\n', (config) => {
    assert.deepEqual(loadConfig({ config }).keepalive, { intervalMs: 2000, count: 3 });
  });
  withConfig('keepalive_interval = -1\n', (config) => {
    assert.equal(loadConfig({ config }).keepalive, undefined);
  });
});

test('impossible keepalive settings are refused, naming the setting', () => {
  withConfig('keepalive_interval = 0\n', (config) => {
    assert.throws(() => loadConfig({ config }), /Invalid keepalive_interval 0/);
  });
  withConfig('keepalive_count = 0\n', (config) => {
    assert.throws(() => loadConfig({ config }), /Invalid keepalive_count 0: expected at least 1/);
  });
  withConfig('keepalive_count = "5"\n', (config) => {
    assert.throws(() => loadConfig({ config }), /Setting 'keepalive_count' at .* must be a number/);
  });
});
