import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FerryError } from '../common/errors.js';
import { loadConfig, parseConfigText, type DaemonConfig } from './config.js';

/** Loads a config made of `text`, with directories pinned so defaults never touch $HOME. */
function load(t: TestContext, text: string): { config: DaemonConfig; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ferryd.conf');
  writeFileSync(file, text);
  const config = loadConfig({ config: file, stateDir: join(dir, 's'), runDir: join(dir, 'r') });
  return { config, file };
}

function refusal(t: TestContext, text: string): { err: FerryError; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ferryd.conf');
  writeFileSync(file, text);
  try {
    loadConfig({ config: file, stateDir: join(dir, 's'), runDir: join(dir, 'r') });
  } catch (err) {
    assert.ok(err instanceof FerryError, String(err));
    return { err, file };
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

void test('settings of every type are read; comments and blank lines are skipped', () => {
  assert.deepEqual(
    parseConfigText(
      '# ferryd\n\nlog_level = "debug"  # chatty\nmax_frame_bytes = 8192\nlisten_addr = "10.0.0.1"\n',
      'f',
    ),
    { log_level: 'debug', max_frame_bytes: 8192, listen_addr: '10.0.0.1' },
  );
});

void test('an unknown key, a malformed line or a wrongly typed value names the line', () => {
  assert.throws(() => parseConfigText('log_level = "info"\nbogus = 1\n', 'f.conf'), {
    code: 'INVALID_ARG',
    message: "Unknown setting 'bogus' at f.conf:2",
  });
  assert.throws(() => parseConfigText('listen_tcp 1\n', 'f.conf'), {
    message: 'Malformed setting at f.conf:1: expected key = "value" or key = number',
  });
  assert.throws(() => parseConfigText('listen_addr = 1\n', 'f.conf'), {
    message: "Setting 'listen_addr' at f.conf:1 must be a quoted string",
  });
  assert.throws(() => parseConfigText('listen_tcp = "1"\n', 'f.conf'), {
    message: "Setting 'listen_tcp' at f.conf:1 must be a number",
  });
});

void test('TCP is off by default, and with auth_tcp set but listen_tcp not', (t) => {
  assert.equal(load(t, '').config.tcp, undefined);
  assert.equal(load(t, 'listen_tcp = 0\nauth_tcp = "sasl"\n').config.tcp, undefined);
});

void test('listen_tcp = 1 with auth_tcp = "none" listens on loopback port 16509 by default', (t) => {
  assert.deepEqual(load(t, 'listen_tcp = 1\nauth_tcp = "none"\n').config.tcp, {
    address: '127.0.0.1',
    port: 16509,
    auth: 'none',
  });
  assert.deepEqual(
    load(t, 'listen_tcp = 1\nauth_tcp = "none"\nlisten_addr = "0.0.0.0"\ntcp_port = 0\n').config
      .tcp,
    { address: '0.0.0.0', port: 0, auth: 'none' },
  );
});

void test('tcp_port may be quoted, as libvirtd.conf writes it', (t) => {
  assert.deepEqual(load(t, 'listen_tcp = 1\nauth_tcp = "none"\ntcp_port = "16600"\n').config.tcp, {
    address: '127.0.0.1',
    port: 16600,
    auth: 'none',
  });
});

void test("listen_tcp = 1 alone means libvirt's default, SASL logins, against /etc/ferry/users", (t) => {
  const { config } = load(t, 'listen_tcp = 1\nlisten_addr = "127.0.0.2"\n');
  assert.deepEqual(config.tcp, { address: '127.0.0.2', port: 16509, auth: 'sasl' });
  assert.equal(config.accountsFile, '/etc/ferry/users');
  assert.equal(load(t, 'auth_users_file = "/srv/users"\n').config.accountsFile, '/srv/users');
});

void test('bad TCP values are refused naming the line', (t) => {
  const cases: [string, RegExp][] = [
    ['listen_tcp = 2\n', /^Setting 'listen_tcp' at .*:1 must be 0 or 1, not 2$/],
    [
      'listen_tcp = 1\ntcp_port = 70000\n',
      /^Setting 'tcp_port' at .*:2 must be a port number from 0 to 65535, not 70000$/,
    ],
    ['tcp_port = -1\n', /^Setting 'tcp_port' at .*:1 must be a port number/],
    ['tcp_port = "http"\n', /^Setting 'tcp_port' at .*:1 must be a number$/],
    [
      'auth_tcp = "kerberos"\n',
      /^Setting 'auth_tcp' at .*:1 must be "none" or "sasl", not "kerberos"$/,
    ],
    ['listen_addr = ""\n', /^Setting 'listen_addr' at .*:1 must not be empty$/],
  ];
  for (const [text, pattern] of cases) {
    const { err } = refusal(t, text);
    assert.equal(err.code, 'INVALID_ARG', text);
    assert.match(err.message, pattern);
  }
});

void test('a named config file that does not exist is an error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'none.conf');
  assert.throws(() => loadConfig({ config: file }), {
    message: `Cannot read config file '${file}': No such file or directory`,
  });
});

void test('allowed_paths takes a list of absolute directories; allow_qemu_commandline 0 or 1', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ferryd.conf');
  writeFileSync(
    file,
    'allowed_paths = [ "/srv/images", "/data/a \\"b\\"" ]  # two\nallow_qemu_commandline = 1\n',
  );
  const config = loadConfig({ config: file, stateDir: join(dir, 's'), runDir: join(dir, 'r') });
  assert.deepEqual(config.policy, {
    allowedPaths: ['/srv/images', '/data/a "b"'],
    qemuCommandline: true,
    origin: file,
  });
  writeFileSync(file, 'allowed_paths = []\n');
  const none = loadConfig({ config: file, stateDir: join(dir, 's'), runDir: join(dir, 'r') });
  assert.deepEqual(none.policy.allowedPaths, []);
  assert.equal(none.policy.qemuCommandline, false);

  const cases: [string, RegExp][] = [
    [
      'allowed_paths = "/srv"\n',
      /^Setting 'allowed_paths' at .*:1 must be a list of quoted strings, like \["a", "b"\]$/,
    ],
    [
      'allowed_paths = ["srv"]\n',
      /^Setting 'allowed_paths' at .*:1 must list absolute directories$/,
    ],
    ['log_level = ["info"]\n', /^Setting 'log_level' at .*:1 must be a quoted string$/],
    [
      'allow_qemu_commandline = 2\n',
      /^Setting 'allow_qemu_commandline' at .*:1 must be 0 or 1, not 2$/,
    ],
  ];
  for (const [text, pattern] of cases) {
    const { err } = refusal(t, text);
    assert.equal(err.code, 'INVALID_ARG', text);
    assert.match(err.message, pattern);
  }
});

void test('machine_types lists globs (default: every type); an empty list is refused', (t) => {
  assert.equal(load(t, '').config.machineTypes, undefined);
  assert.deepEqual(load(t, 'machine_types = ["pc-q35-*", "pc-i440fx-7.*"]\n').config.machineTypes, [
    'pc-q35-*',
    'pc-i440fx-7.*',
  ]);
  const { err, file } = refusal(t, 'machine_types = []\n');
  assert.match(
    err.message,
    new RegExp(`^Setting 'machine_types' at ${file}:1 must list at least one`),
  );
});

void test('host_memory_mib: unset offers MemTotal; a whole number of MiB from 64; others refused', (t) => {
  assert.equal(load(t, '').config.hostMemoryMiB, undefined);
  assert.equal(load(t, 'host_memory_mib = 1024\n').config.hostMemoryMiB, 1024);
  for (const bad of ['0', '63', '-5', '99999999999'])
    assert.match(
      refusal(t, `host_memory_mib = ${bad}\n`).err.message,
      /host_memory_mib .* is out of range/,
    );
  for (const bad of ['1.5', '"lots"'])
    assert.match(refusal(t, `host_memory_mib = ${bad}\n`).err.message, /ferryd\.conf:1/);
});
