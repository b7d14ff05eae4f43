import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { authFilePath, credentialsFor, lookupCredentials, parseAuthConf } from './auth-conf.js';

const CONF = `# libvirt's example, with a Ferry host group
[credentials-test]
authname=fred
password=123456

[credentials-prod]
authname=bar
password=  \\swith spaces\\s

[credentials-nouser]
password=only

[auth-libvirt-test1.example.com]
credentials=test

[auth-ferry-prod1.example.com]
credentials=prod

[auth-libvirt-10.0.0.5]
credentials=nouser

[auth-libvirt-default]
credentials=test

[auth-esx-ignored]
credentials=whatever
`;

void test('parseAuthConf() reads credential sets and host groups (other services ignored)', () => {
  const conf = parseAuthConf(CONF, 'auth.conf');
  assert.deepEqual(conf.credentials.get('test'), { authname: 'fred', password: '123456' });
  // GKeyFile drops the spaces after '=' and decodes \s (how a value keeps a leading space).
  assert.deepEqual(conf.credentials.get('prod'), { authname: 'bar', password: ' with spaces ' });
  assert.deepEqual(
    [...conf.hosts],
    [
      ['auth-libvirt-test1.example.com', 'test'],
      ['auth-ferry-prod1.example.com', 'prod'],
      ['auth-libvirt-10.0.0.5', 'nouser'],
      ['auth-libvirt-default', 'test'],
    ],
  );
});

void test('credentialsFor() picks the host group, then the default; the URI user must match', () => {
  const conf = parseAuthConf(CONF, 'auth.conf');
  assert.deepEqual(credentialsFor(conf, 'test1.example.com', undefined), {
    user: 'fred',
    password: '123456',
  });
  assert.deepEqual(credentialsFor(conf, 'prod1.example.com', undefined), {
    user: 'bar',
    password: ' with spaces ',
  });
  assert.deepEqual(credentialsFor(conf, 'other', undefined), { user: 'fred', password: '123456' });
  // fred@prod1: the host's set is bar's, so the default set (fred's) applies.
  assert.deepEqual(credentialsFor(conf, 'prod1.example.com', 'fred'), {
    user: 'fred',
    password: '123456',
  });
  // anna@…: no set is anna's, so there is no password for her.
  assert.deepEqual(credentialsFor(conf, 'prod1.example.com', 'anna'), {
    user: 'anna',
    password: undefined,
  });
  // A set without authname serves whichever user the URI names, and none without one.
  assert.deepEqual(credentialsFor(conf, '10.0.0.5', 'anna'), { user: 'anna', password: 'only' });
  assert.deepEqual(credentialsFor(conf, '10.0.0.5', undefined), {
    user: undefined,
    password: 'only',
  });
});

void test('parseAuthConf() names the line of malformed input and dangling references', () => {
  assert.throws(() => parseAuthConf('authname=fred\n', 'a.conf'), {
    code: 'INVALID_ARG',
    message: 'Malformed line at a.conf:1: expected [group] or key=value inside a group',
  });
  assert.throws(() => parseAuthConf('[credentials-x]\nnot a pair\n', 'a.conf'), {
    message: /^Malformed line at a\.conf:2:/,
  });
  assert.throws(() => parseAuthConf('\n[auth-libvirt-h]\ncredentials=missing\n', 'a.conf'), {
    message:
      "Group [auth-libvirt-h] at a.conf:2 names credentials 'missing', but there is no [credentials-missing]",
  });
  assert.throws(() => parseAuthConf('[auth-libvirt-h]\nfoo=bar\n', 'a.conf'), {
    message: 'Group [auth-libvirt-h] at a.conf:1 has no credentials= key',
  });
});

void test('authFilePath() prefers authfile=, then FERRY_AUTH_FILE, then the user file', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'ferry-authconf-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env = { HOME: home };
  assert.equal(
    authFilePath({ authfile: '/x/a.conf', env: { FERRY_AUTH_FILE: '/y' }, home }),
    '/x/a.conf',
  );
  assert.equal(authFilePath({ env: { FERRY_AUTH_FILE: '/y/b.conf' }, home }), '/y/b.conf');
  const user = join(home, '.config', 'ferry', 'auth.conf');
  mkdirSync(join(home, '.config', 'ferry'), { recursive: true });
  writeFileSync(user, CONF);
  assert.equal(authFilePath({ env, home }), user);
  const xdg = join(home, 'xdg');
  mkdirSync(join(xdg, 'ferry'), { recursive: true });
  writeFileSync(join(xdg, 'ferry', 'auth.conf'), CONF);
  assert.equal(
    authFilePath({ env: { XDG_CONFIG_HOME: xdg }, home }),
    join(xdg, 'ferry', 'auth.conf'),
  );
  assert.deepEqual(lookupCredentials('test1.example.com', undefined, { env, home }), {
    user: 'fred',
    password: '123456',
    file: user,
  });
  assert.throws(() => lookupCredentials('h', undefined, { authfile: join(home, 'none'), home }), {
    code: 'SYSTEM_ERROR',
    message: `Cannot read auth file '${join(home, 'none')}': No such file or directory`,
  });
});
