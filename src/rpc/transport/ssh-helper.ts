/**
 * The remote end of `qemu+ssh://`: `ferry-ssh-helper system|session [SOCKET]`, run by sshd on
 * the destination host, joins its stdin/stdout to the local ferryd socket. It greets once
 * connected (see SSH_HELPER_GREETING) so the client can tell "ssh worked but no ferryd" from
 * a working link, then copies bytes both ways without looking at them: ferryd parses and
 * checks every frame, exactly as for a local client.
 * @module
 */
import { createConnection } from 'node:net';
import { defaultSocketPath, socketConnectError } from '../socket-path.js';

/** The line written once connected to ferryd; the client waits for it (see ssh.ts). */
export const SSH_HELPER_GREETING = 'FERRY-SSH-HELPER 1';

/** Runs the bridge; resolves with the exit code once either side has hung up. */
export function runSshHelper(argv: readonly string[]): Promise<number> {
  const [uriPath, socketArg, ...extra] = argv;
  if ((uriPath !== 'system' && uriPath !== 'session') || extra.length > 0) {
    process.stderr.write('error: usage: ferry-ssh-helper system|session [SOCKET]\n');
    return Promise.resolve(2);
  }
  let path: string;
  try {
    path = socketArg ?? defaultSocketPath(`/${uriPath}`);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return Promise.resolve(2);
  }
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    let connected = false;
    const finish = (code: number): void => {
      socket.destroy();
      resolve(code);
    };
    socket.once('error', (err) => {
      if (!connected) process.stderr.write(`error: ${socketConnectError(path, err).message}\n`);
      finish(connected ? 0 : 1);
    });
    socket.once('connect', () => {
      connected = true;
      process.stdout.write(`${SSH_HELPER_GREETING}\n`);
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
      // ssh closing our stdin means the client is gone; ferryd closing means the same for us.
      process.stdin.once('end', () => socket.end());
      socket.once('close', () => finish(0));
    });
  });
}
