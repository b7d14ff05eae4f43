import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { SERVER_PKI_DEFAULTS } from '../pki/paths.js';
import { loadConfig, parseConfigText, type DaemonConfig } from './config.js';

function load(t: TestContext, text: string): DaemonConfig {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ferryd.conf');
  writeFileSync(file, text);
  return loadConfig({ config: file, stateDir: join(dir, 's'), runDir: join(dir, 'r') });
}

void test('the web console is off by default and on loopback port 9090 when enabled', (t) => {
  assert.equal(load(t, '').console, undefined);
  assert.equal(load(t, 'console_enabled = 0\nconsole_port = 1234\n').console, undefined);
  assert.deepEqual(load(t, 'console_enabled = 1\n').console, {
    address: '127.0.0.1',
    port: 9090,
    tls: undefined,
    webDir: undefined,
  });
  // listen_addr opens the RPC ports to the network, not the console.
  assert.equal(
    load(t, 'console_enabled = 1\nlisten_addr = "0.0.0.0"\n').console?.address,
    '127.0.0.1',
  );
});

void test('console_listen_addr, console_port (quoted too), console_tls and console_web_dir', (t) => {
  const config = load(
    t,
    [
      'console_enabled = 1',
      'console_listen_addr = "::1"',
      'console_port = "0"',
      'console_tls = 1',
      'console_web_dir = "/srv/ferry-web"',
    ].join('\n'),
  );
  assert.deepEqual(config.console, {
    address: '::1',
    port: 0,
    tls: { keyFile: SERVER_PKI_DEFAULTS.keyFile, certFile: SERVER_PKI_DEFAULTS.certFile },
    webDir: '/srv/ferry-web',
  });
  // The same key_file and cert_file as listen_tls.
  const own = load(
    t,
    'console_enabled = 1\nconsole_tls = 1\nkey_file = "/k.pem"\ncert_file = "/c.pem"\n',
  );
  assert.deepEqual(own.console?.tls, { keyFile: '/k.pem', certFile: '/c.pem' });
});

void test('bad console settings are errors naming the key and the line', () => {
  const bad: [string, RegExp][] = [
    ['console_enabled = 2', /^Setting 'console_enabled' at f:1 must be 0 or 1, not 2$/],
    ['console_enabled = "yes"', /^Setting 'console_enabled' at f:1 must be a number$/],
    [
      'console_port = 70000',
      /^Setting 'console_port' at f:1 must be a port number from 0 to 65535, not 70000$/,
    ],
    ['console_port = "http"', /^Setting 'console_port' at f:1 must be a number$/],
    ['console_tls = -1', /^Setting 'console_tls' at f:1 must be 0 or 1, not -1$/],
    ['console_listen_addr = ""', /^Setting 'console_listen_addr' at f:1 must not be empty$/],
    ['console_listen_addr = 1', /^Setting 'console_listen_addr' at f:1 must be a quoted string$/],
    ['console_web_dir = "web"', /^Setting 'console_web_dir' at f:1 must be an absolute directory$/],
    ['console_url = "x"', /^Unknown setting 'console_url' at f:1$/],
  ];
  for (const [text, message] of bad)
    assert.throws(() => parseConfigText(text, 'f'), { code: 'INVALID_ARG', message }, text);
});
