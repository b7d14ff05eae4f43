import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../daemon/config.js';
import { processRecord } from './processes.js';
import { configKeys, ferrydConfigText, ferrydDefaults, guestProcesses } from './ferryd.js';

test('ferrydConfigText() writes the testbed defaults, which ferryd accepts', () => {
  const text = ferrydConfigText('h1', ferrydDefaults('10.77.1.11'), '');
  assert.deepEqual(parseConfigText(text, 'ferryd.conf'), {
    listen_tcp: 1,
    listen_addr: '10.77.1.11',
    auth_tcp: 'none',
  });
});

test('ferrydConfigText() lets extra settings win without a duplicate key', () => {
  const extra =
    '# TLS only\nauth_tcp = "sasl"   # from the auth helper\nmigration_watch_ms = 0\n\n';
  const text = ferrydConfigText('h2', ferrydDefaults('10.77.1.12'), extra);
  assert.equal(text.match(/auth_tcp/g)?.length, 1, text);
  assert.deepEqual(parseConfigText(text, 'ferryd.conf'), {
    listen_tcp: 1,
    listen_addr: '10.77.1.12',
    auth_tcp: 'sasl',
    migration_watch_ms: 0,
  });
  assert.ok(text.endsWith('migration_watch_ms = 0\n'));
});

test('configKeys() finds set keys, not comments', () => {
  assert.deepEqual([...configKeys('a = 1\n  # b = 2\n c_d="x"\nnot a setting\n')], ['a', 'c_d']);
});

test('guestProcesses() trusts a pid file only when it names a running QEMU', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-tb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // This test's own PID is a running process, but not QEMU: a reused PID is left alone.
  writeFileSync(join(dir, 'a.pid'), `${process.pid}\n`);
  writeFileSync(join(dir, 'b.pid'), 'garbage');
  writeFileSync(join(dir, 'c.qmp'), '');
  assert.deepEqual(guestProcesses(dir), []);
  assert.deepEqual(guestProcesses(join(dir, 'missing')), []);
  assert.notEqual(processRecord(process.pid), undefined);
});
