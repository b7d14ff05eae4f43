/**
 * sshd on every host (Debian's openssh-server) and root's keys between them: one host key and
 * one client key per host, every client key authorized on every host, and every host key in
 * every host's known_hosts by name and address, so `ssh -o BatchMode=yes h2 CMD` from h1 works
 * the way it does between two real hosts.
 * @module
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './processes.js';

export const SSHD = '/usr/sbin/sshd';
export const SSH_PORT = 22;
/** sshd refuses to start without its privilege separation directory. */
export const PRIVSEP_DIR = '/run/sshd';

/** Where a host's ssh files are, seen from the root namespace. */
export interface SshHostFiles {
  name: string;
  address: string;
  /** The host's /root/.ssh: client key, authorized_keys, known_hosts. */
  sshDir: string;
  /** sshd's own files: host key, sshd_config, log. */
  sshdDir: string;
}

export const hostKeyFile = (h: SshHostFiles): string => join(h.sshdDir, 'ssh_host_ed25519_key');
export const sshdConfigFile = (h: SshHostFiles): string => join(h.sshdDir, 'sshd_config');
export const sshdLogFile = (h: SshHostFiles): string => join(h.sshdDir, 'sshd.log');
const clientKeyFile = (h: SshHostFiles): string => join(h.sshDir, 'id_ed25519');

/** sshd's configuration for one host: its address, its key, root by key only. */
export function sshdConfigText(address: string, hostKey: string): string {
  return [
    `# sshd of a Ferry testbed host (src/testbed/ssh.ts)`,
    `ListenAddress ${address}:${SSH_PORT}`,
    `HostKey ${hostKey}`,
    // The testbed records sshd's PID itself; a pid file would be shared by every host's sshd.
    'PidFile none',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The keys live in root-owned 0700/0600 files, which strict mode accepts.
    'StrictModes yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PrintMotd no',
    'PrintLastLog no',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

/** One known_hosts line: the host's key under its name and its address. */
export function knownHostsLine(name: string, address: string, hostKeyPub: string): string {
  const [type, key] = hostKeyPub.trim().split(/\s+/);
  return `${name},${address} ${type ?? ''} ${key ?? ''}`;
}

async function keygen(file: string, comment: string): Promise<void> {
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/**
 * Generates every host's keys and writes sshd_config, authorized_keys and known_hosts for
 * all of them.
 */
export async function setUpSsh(hosts: readonly SshHostFiles[]): Promise<void> {
  for (const h of hosts) {
    mkdirSync(h.sshDir, { recursive: true, mode: 0o700 });
    mkdirSync(h.sshdDir, { recursive: true, mode: 0o700 });
    chmodSync(h.sshDir, 0o700);
    await keygen(hostKeyFile(h), `root@${h.name} host key`);
    await keygen(clientKeyFile(h), `root@${h.name}`);
    writeFileSync(sshdConfigFile(h), sshdConfigText(h.address, hostKeyFile(h)));
  }
  const authorized = hosts.map((h) => readFileSync(`${clientKeyFile(h)}.pub`, 'utf8').trim());
  const known = hosts.map((h) =>
    knownHostsLine(h.name, h.address, readFileSync(`${hostKeyFile(h)}.pub`, 'utf8')),
  );
  for (const h of hosts) {
    writeFileSync(join(h.sshDir, 'authorized_keys'), `${authorized.join('\n')}\n`, { mode: 0o600 });
    writeFileSync(join(h.sshDir, 'known_hosts'), `${known.join('\n')}\n`, { mode: 0o600 });
  }
  mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
}

/** The command that runs a host's sshd in the foreground, logging to stderr. */
export function sshdArgv(h: SshHostFiles): string[] {
  return [SSHD, '-D', '-e', '-f', sshdConfigFile(h)];
}

/** The log line sshd writes once it listens. */
export function sshdListening(address: string): string {
  return `Server listening on ${address} port ${SSH_PORT}`;
}
