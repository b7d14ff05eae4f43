/**
 * `qemu+ssh://[USER@]HOST[:PORT]/system`: the system `ssh` binary carries the RPC to a small
 * bridge on the remote host (`ferry-ssh-helper`, see ssh-helper.ts) that connects to that
 * host's ferryd unix socket. Using ssh itself, not a library, keeps ~/.ssh/config, agents,
 * known_hosts and jump hosts working the way the user set them up, as libvirt does.
 * @module
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { FerryError } from '../../common/errors.js';
import type { Transport } from './index.js';
import { SSH_HELPER_GREETING } from './ssh-helper.js';
import { StreamTransport, type StreamTransportOptions } from './stream.js';

/** The helper's name on the remote PATH. */
export const SSH_HELPER_COMMAND = 'ferry-ssh-helper';
export const DEFAULT_SSH_CONNECT_TIMEOUT_MS = 20_000;

export interface SshTarget {
  host: string;
  port?: number | undefined;
  user?: string | undefined;
  /** `keyfile=` URI parameter: the identity file passed to `ssh -i`. */
  keyfile?: string | undefined;
  /** `no_verify=1`: do not check the host key (libvirt's meaning for ssh). */
  noVerify?: boolean | undefined;
  /** `socket=`: the remote ferryd socket; default that of the URI path on the remote host. */
  socket?: string | undefined;
  /** `/system` or `/session` on the remote host. */
  uriPath: 'system' | 'session';
  /** `command=`: the local ssh binary (default `ssh` on PATH). */
  sshCommand?: string | undefined;
  /**
   * Allow ssh to ask for a password or passphrase (only when a person is at a terminal);
   * otherwise BatchMode=yes makes ssh fail at once instead of waiting for an answer.
   */
  interactive?: boolean | undefined;
}

export interface ConnectSshOptions extends Omit<StreamTransportOptions, 'peer' | 'local'> {
  /** Give up when the helper has not greeted after this long (default 20 s). */
  timeoutMs?: number;
}

/** POSIX-shell quoting: ssh hands the remote command to the remote user's shell. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `ssh` command line for a target (pure, for tests and for `--debug` output). */
export function sshArgv(target: SshTarget, connectTimeoutS = 10): string[] {
  const argv = [target.sshCommand ?? 'ssh', '-T', '-e', 'none', '-x', '-a'];
  argv.push('-o', `ConnectTimeout=${connectTimeoutS}`);
  if (target.interactive !== true) argv.push('-o', 'BatchMode=yes');
  if (target.port !== undefined) argv.push('-p', String(target.port));
  if (target.user !== undefined) argv.push('-l', target.user);
  // The key asked for, and only it: ssh would otherwise also offer the default keys.
  if (target.keyfile !== undefined) argv.push('-i', target.keyfile, '-o', 'IdentitiesOnly=yes');
  if (target.noVerify === true)
    argv.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null');
  const remote = [SSH_HELPER_COMMAND, target.uriPath];
  if (target.socket !== undefined) remote.push(target.socket);
  argv.push('--', target.host, remote.map(shellQuote).join(' '));
  return argv;
}

/**
 * Why ssh (or the helper behind it) failed, in one line, from its exit status and stderr.
 * ssh's own words are kept ("Host key verification failed.", "Permission denied
 * (publickey).", "connect to host h2 port 22: Connection refused"); a missing helper gets a hint.
 */
export function describeSshFailure(
  host: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Warning: Permanently added/.test(l));
  if (code === 127 || lines.some((l) => /ferry-ssh-helper.*not found/.test(l)))
    return `${SSH_HELPER_COMMAND} was not found on ${host}: is Ferry installed there?`;
  // The helper's own `error: …` (e.g. no ferryd on the remote socket) says it best.
  const helperError = lines.find((l) => l.startsWith('error: '));
  if (helperError !== undefined) return helperError.slice('error: '.length);
  const last = lines.at(-1);
  if (last !== undefined) return last.replace(/^ssh: /, '');
  if (signal !== null) return `ssh was killed by ${signal}`;
  return `ssh exited with status ${code ?? 'unknown'}`;
}

type SshChild = ChildProcessByStdio<Writable, Readable, Readable>;

/**
 * Starts ssh to `target` and resolves once the remote helper has greeted, i.e. once there is
 * a connected ferryd at the other end. Fails with CONNECT_FAILED "Cannot connect to HOST over
 * ssh: <why>" when ssh or the helper gives up. The transport owns the ssh process: closing it
 * ends ssh, and ssh ending closes it.
 */
export function connectSsh(target: SshTarget, options: ConnectSshOptions = {}): Promise<Transport> {
  const { timeoutMs = DEFAULT_SSH_CONNECT_TIMEOUT_MS, ...transportOptions } = options;
  const [command = 'ssh', ...args] = sshArgv(target, Math.max(1, Math.ceil(timeoutMs / 2000)));
  const failed = (why: string, cause?: unknown): FerryError =>
    new FerryError('CONNECT_FAILED', `Cannot connect to ${target.host} over ssh: ${why}`, {
      ...(cause === undefined ? {} : { cause }),
    });

  return new Promise((resolve, reject) => {
    let child: SshChild;
    try {
      child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      reject(failed(err instanceof Error ? err.message : String(err), err));
      return;
    }
    let stderr = '';
    let greeted = false;
    let head = Buffer.alloc(0);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      // Only the tail matters for the message; do not let a chatty ssh grow memory.
      stderr = (stderr + text).slice(-4096);
    });
    const timer = setTimeout(() => {
      fail(failed(`no answer within ${timeoutMs} ms`));
      child.kill('SIGTERM');
    }, timeoutMs);
    const fail = (err: FerryError): void => {
      if (greeted) return;
      greeted = true;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      reject(err);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(
        failed(
          err.code === 'ENOENT' ? `'${command}' not found (install openssh-client)` : err.message,
          err,
        ),
      );
    });
    // 'close' comes after stderr has drained: ssh's reason is usually its last line.
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      fail(failed(describeSshFailure(target.host, code, signal, stderr)));
    });
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > 256) {
          fail(failed('the remote end did not answer as ferry-ssh-helper does'));
          child.kill('SIGTERM');
        }
        return;
      }
      const line = head.subarray(0, nl).toString('utf8').trim();
      const rest = head.subarray(nl + 1);
      if (line !== SSH_HELPER_GREETING) {
        fail(failed(`unexpected greeting from the remote end: '${line.slice(0, 80)}'`));
        child.kill('SIGTERM');
        return;
      }
      greeted = true;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.pause();
      if (rest.length > 0) child.stdout.unshift(rest);
      resolve(wrap(child, target, transportOptions, () => stderr));
    };
    child.stdout.on('data', onData);
  });
}

function wrap(
  child: SshChild,
  target: SshTarget,
  options: Omit<StreamTransportOptions, 'peer' | 'local'>,
  stderr: () => string,
): Transport {
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  const transport = new StreamTransport(stream, { ...options, peer: `ssh:${target.host}` });
  child.once('exit', (code, signal) => {
    if (!transport.closed)
      transport.close(
        new FerryError(
          'CONNECT_FAILED',
          `Connection to ${target.host} over ssh ended: ${describeSshFailure(target.host, code, signal, stderr())}`,
        ),
      );
  });
  transport.onClose(() => {
    // ssh exits once its stdin is closed and the helper hangs up; make sure it does.
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }, 2000);
    timer.unref();
    child.once('exit', () => {
      clearTimeout(timer);
    });
  });
  return transport;
}
