/**
 * Where the local ferryd listens for `qemu:///system` and `qemu:///session`. Kept apart from
 * connect.ts so the ssh helper, which runs on every qemu+ssh connection, loads only this.
 * @module
 */
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';

/** Socket file name inside ferryd's run directory (see daemon/config.ts). */
export const SOCKET_NAME = 'ferry-sock';

/**
 * The socket of the local ferryd for a `qemu:///system` or `qemu:///session` URI path,
 * mirroring ferryd's default run directories (root: /run/ferry; user: $XDG_RUNTIME_DIR/ferry).
 */
export function defaultSocketPath(
  uriPath: string,
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? 0,
): string {
  if (uriPath === '/system') return join('/run/ferry', SOCKET_NAME);
  if (uriPath === '/session') {
    const runtime = env['XDG_RUNTIME_DIR'];
    const runDir =
      runtime !== undefined && runtime !== '' ? join(runtime, 'ferry') : `/tmp/ferry-${uid}`;
    return join(runDir, SOCKET_NAME);
  }
  throw new FerryError(
    'INVALID_ARG',
    `Unexpected QEMU URI path '${uriPath}', try qemu:///system or qemu:///session`,
  );
}

/**
 * "Failed to connect socket to 'PATH': Why", as virsh says it: for the unix transport and for
 * the ssh helper that reaches the same socket on the far host.
 */
export function socketConnectError(path: string, err: NodeJS.ErrnoException | string): FerryError {
  const why = typeof err === 'string' ? err : describeErrno(err);
  return new FerryError('CONNECT_FAILED', `Failed to connect socket to '${path}': ${why}`, {
    ...(typeof err === 'string' ? {} : { cause: err }),
  });
}
