import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseConfSyntax } from './config-syntax.js';
import { loadConfig, parseConfigText, type DaemonConfig } from './config.js';

function load(t: TestContext, text: string): DaemonConfig {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ferryd.conf');
  writeFileSync(file, text);
  return loadConfig({ config: file, stateDir: join(dir, 's'), runDir: join(dir, 'r') });
}

void test('parseConfSyntax() reads lists over several lines, with comments and a trailing comma', () => {
  const entries = parseConfSyntax(
    [
      'tls_allowed_dn_list = ["C=GB,O=Ferry,CN=a", "C=GB,O=Ferry,CN=*"]  # one line',
      'tls_allowed_dn_list = [',
      '  "C=GB,O=Ferry,CN=b",   # b',
      '  # c is gone',
      '  "C=GB,O=\\"Q\\",CN=d",',
      ']',
      'listen_tls = 1',
      'empty = []',
    ].join('\n'),
    'f.conf',
  );
  assert.deepEqual(
    entries.map((e) => [e.key, e.value, e.where]),
    [
      [
        'tls_allowed_dn_list',
        {
          kind: 'list',
          items: [
            { kind: 'string', text: 'C=GB,O=Ferry,CN=a' },
            { kind: 'string', text: 'C=GB,O=Ferry,CN=*' },
          ],
        },
        'f.conf:1',
      ],
      [
        'tls_allowed_dn_list',
        {
          kind: 'list',
          items: [
            { kind: 'string', text: 'C=GB,O=Ferry,CN=b' },
            { kind: 'string', text: 'C=GB,O="Q",CN=d' },
          ],
        },
        'f.conf:2',
      ],
      ['listen_tls', { kind: 'number', n: 1 }, 'f.conf:7'],
      ['empty', { kind: 'list', items: [] }, 'f.conf:8'],
    ],
  );
});

void test('parseConfSyntax() names the line of a malformed list or setting', () => {
  assert.throws(() => parseConfSyntax('a = 1\nl = ["x" "y"]\n', 'f.conf'), {
    code: 'INVALID_ARG',
    message: 'Malformed list at f.conf:2: expected ["value", …]',
  });
  assert.throws(() => parseConfSyntax('l = ["x",\n  "y"\n', 'f.conf'), {
    message: 'Malformed list at f.conf:1: expected ["value", …]',
  });
  assert.throws(() => parseConfSyntax('a = "x" junk\n', 'f.conf'), {
    message: 'Malformed setting at f.conf:1: expected key = "value" or key = number',
  });
});

void test('a list where a string belongs, and the reverse, are refused naming the line', () => {
  assert.throws(() => parseConfigText('listen_addr = ["a"]\n', 'f.conf'), {
    message: "Setting 'listen_addr' at f.conf:1 must be a quoted string",
  });
  assert.throws(() => parseConfigText('tls_allowed_dn_list = "C=GB"\n', 'f.conf'), {
    message:
      'Setting \'tls_allowed_dn_list\' at f.conf:1 must be a list of quoted strings, like ["a", "b"]',
  });
  assert.throws(() => parseConfigText('tls_allowed_dn_list = [1]\n', 'f.conf'), {
    message: /must be a list of quoted strings/,
  });
  assert.throws(() => parseConfigText('tls_allowed_dn_list = []\n', 'f.conf'), {
    message: /^Setting 'tls_allowed_dn_list' at f\.conf:1 must name at least one DN/,
  });
});

void test('TLS is off by default; listen_tls = 1 uses libvirtd\'s port, files and auth_tls = "none"', (t) => {
  assert.equal(load(t, '').tls, undefined);
  assert.deepEqual(load(t, 'listen_tls = 1\n').tls, {
    address: '127.0.0.1',
    port: 16514,
    auth: 'none',
    files: {
      keyFile: '/etc/pki/libvirt/private/serverkey.pem',
      certFile: '/etc/pki/libvirt/servercert.pem',
      caFile: '/etc/pki/CA/cacert.pem',
    },
    verifyClients: true,
    allowedDns: undefined,
  });
});

void test('every TLS key is read, listen_addr shared with TCP', (t) => {
  const config = load(
    t,
    [
      'listen_tcp = 1',
      'listen_tls = 1',
      'listen_addr = "10.0.0.1"',
      'tls_port = "16600"',
      'auth_tls = "sasl"',
      'key_file = "/k.pem"',
      'cert_file = "/c.pem"',
      'ca_file = "/ca.pem"',
      'crl_file = "/crl.pem"',
      'tls_no_verify_certificate = 1',
      'tls_allowed_dn_list = ["C=GB,O=Ferry,CN=*"]',
    ].join('\n'),
  );
  assert.equal(config.tcp?.address, '10.0.0.1');
  assert.deepEqual(config.tls, {
    address: '10.0.0.1',
    port: 16600,
    auth: 'sasl',
    files: { keyFile: '/k.pem', certFile: '/c.pem', caFile: '/ca.pem', crlFile: '/crl.pem' },
    verifyClients: false,
    allowedDns: ['C=GB,O=Ferry,CN=*'],
  });
});

void test('bad TLS values are refused naming the line', () => {
  const cases: [string, RegExp][] = [
    ['listen_tls = 2\n', /^Setting 'listen_tls' at f:1 must be 0 or 1, not 2$/],
    ['tls_port = 65536\n', /^Setting 'tls_port' at f:1 must be a port number from 0 to 65535/],
    ['auth_tls = "tls"\n', /^Setting 'auth_tls' at f:1 must be "none" or "sasl", not "tls"$/],
    [
      'tls_no_verify_certificate = 3\n',
      /^Setting 'tls_no_verify_certificate' at f:1 must be 0 or 1/,
    ],
    ['key_file = ""\n', /^Setting 'key_file' at f:1 must not be empty$/],
    ['tls_allowed_dn_list = ["a", ""]\n', /must not contain an empty DN$/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(
      () => parseConfigText(text, 'f'),
      { code: 'INVALID_ARG', message: pattern },
      text,
    );
  }
});
