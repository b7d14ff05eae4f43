import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeSshFailure, sshArgv, connectSsh } from './ssh.js';

void test('sshArgv() runs the helper in batch mode with the URI options, quoting the socket', () => {
  assert.deepEqual(sshArgv({ host: 'h2', uriPath: 'system' }), [
    'ssh',
    '-T',
    '-e',
    'none',
    '-x',
    '-a',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'BatchMode=yes',
    '--',
    'h2',
    'ferry-ssh-helper system',
  ]);
  assert.deepEqual(
    sshArgv(
      {
        host: 'h2',
        port: 2222,
        user: 'admin',
        keyfile: '/k/id',
        noVerify: true,
        socket: "/run/it's here/sock",
        uriPath: 'session',
        sshCommand: '/opt/ssh',
        interactive: true,
      },
      3,
    ),
    [
      '/opt/ssh',
      '-T',
      '-e',
      'none',
      '-x',
      '-a',
      '-o',
      'ConnectTimeout=3',
      '-p',
      '2222',
      '-l',
      'admin',
      '-i',
      '/k/id',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '--',
      'h2',
      `ferry-ssh-helper session '/run/it'\\''s here/sock'`,
    ],
  );
});

void test('describeSshFailure() keeps ssh’s own reason and hints at a missing helper', () => {
  assert.equal(
    describeSshFailure('h2', 255, null, 'Host key verification failed.\n'),
    'Host key verification failed.',
  );
  assert.equal(
    describeSshFailure('h2', 255, null, 'ssh: connect to host h2 port 22: Connection refused\r\n'),
    'connect to host h2 port 22: Connection refused',
  );
  assert.equal(
    describeSshFailure('h2', 127, null, 'bash: line 1: ferry-ssh-helper: command not found\n'),
    'ferry-ssh-helper was not found on h2: is Ferry installed there?',
  );
  assert.equal(
    describeSshFailure(
      'h2',
      1,
      null,
      "Warning: Permanently added 'h2' (ED25519) to the list of known hosts.\nerror: Failed to connect socket to '/run/ferry/ferry-sock': No such file or directory\n",
    ),
    "Failed to connect socket to '/run/ferry/ferry-sock': No such file or directory",
  );
  assert.equal(describeSshFailure('h2', null, 'SIGKILL', ''), 'ssh was killed by SIGKILL');
});

// Error paths only: a stand-in `ssh` (the URI's command= parameter) that fails like ssh does.
// That a real ssh reaches a real ferryd is shown by test/integration/transport-ssh.test.ts.
void test('connectSsh() fails with ssh’s reason, or when the far end is not the helper', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ssh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  await assert.rejects(
    connectSsh({
      host: 'h2',
      uriPath: 'system',
      sshCommand: fake('hostkey', 'echo "Host key verification failed." >&2; exit 255'),
    }),
    {
      code: 'CONNECT_FAILED',
      message: 'Cannot connect to h2 over ssh: Host key verification failed.',
    },
  );
  await assert.rejects(
    connectSsh({
      host: 'h2',
      uriPath: 'system',
      sshCommand: fake('motd', 'echo Welcome; exec sleep 5'),
    }),
    {
      code: 'CONNECT_FAILED',
      message: "Cannot connect to h2 over ssh: unexpected greeting from the remote end: 'Welcome'",
    },
  );
  await assert.rejects(
    connectSsh({ host: 'h2', uriPath: 'system', sshCommand: join(dir, 'missing') }),
    { code: 'CONNECT_FAILED', message: /^Cannot connect to h2 over ssh: '.*missing' not found/ },
  );
  await assert.rejects(
    connectSsh(
      { host: 'h2', uriPath: 'system', sshCommand: fake('silent', 'exec sleep 5') },
      { timeoutMs: 300 },
    ),
    { code: 'CONNECT_FAILED', message: 'Cannot connect to h2 over ssh: no answer within 300 ms' },
  );
});
