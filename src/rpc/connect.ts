/**
 * Conveniences for the CLI: where the local ferryd listens, and a one-call connect.
 * @module
 */
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { RpcClient } from './client.js';
import type { RpcClientOptions, TypedClient } from './client.js';
import type { MethodTable } from './spec.js';
import { connectUnix } from './transport/unix.js';

/** Socket file name inside ferryd's run directory (see daemon/config.ts). */
export const SOCKET_NAME = 'ferry-sock';

/** A connected client as callers see it: typed calls, events, close. */
export interface TypedRpcClient<M extends MethodTable> extends TypedClient<M> {
  readonly closed: boolean;
  onNotification: RpcClient<M>['onNotification'];
  onClose: RpcClient<M>['onClose'];
  close(): void;
}

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

export interface ConnectRpcOptions extends RpcClientOptions {
  /** Give up connecting after this long (default 5000 ms); `timeoutMs` is per call. */
  connectTimeoutMs?: number;
  /** Largest frame sent or accepted (default 16 MiB). */
  maxFrameBytes?: number;
}

/**
 * Connects to ferryd on a unix socket and returns a client for `methods`.
 * Fails with CONNECT_FAILED ("Failed to connect socket to 'PATH': ...") if nobody listens.
 */
export async function connectRpc<M extends MethodTable>(
  path: string,
  methods: M | undefined,
  options: ConnectRpcOptions = {},
): Promise<RpcClient<M>> {
  const { connectTimeoutMs, maxFrameBytes, ...clientOptions } = options;
  const transport = await connectUnix(path, {
    ...(connectTimeoutMs === undefined ? {} : { timeoutMs: connectTimeoutMs }),
    ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
  });
  return new RpcClient(transport, methods, clientOptions);
}
