import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { knownHostsLine, sshdConfigText, sshdListening } from './ssh.js';

test('sshdConfigText() listens on the host address only, root by key only', () => {
  const text = sshdConfigText('10.77.1.12', '/x/h2/sshd/ssh_host_ed25519_key');
  for (const line of [
    'ListenAddress 10.77.1.12:22',
    'HostKey /x/h2/sshd/ssh_host_ed25519_key',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'UsePAM no',
    'PidFile none',
  ])
    assert.ok(text.split('\n').includes(line), line);
  assert.equal(sshdListening('10.77.1.12'), 'Server listening on 10.77.1.12 port 22');
});

test('knownHostsLine() names the host key by host name and address, without its comment', () => {
  assert.equal(
    knownHostsLine('h2', '10.77.1.12', 'ssh-ed25519 AAAAC3Nza root@h2 host key\n'),
    'h2,10.77.1.12 ssh-ed25519 AAAAC3Nza',
  );
});
