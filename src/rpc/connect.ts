/**
 * Reaching a ferryd: where the local one listens, and one connect-by-URI for the CLI and
 * for peer (ferryd to ferryd) connections alike, so both accept the same URIs.
 * @module
 */
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { DEFAULT_TCP_PORT, type ConnectionUri } from '../common/uri.js';
import { RpcClient } from './client.js';
import type { RpcClientOptions, TypedClient } from './client.js';
import type { MethodTable } from './spec.js';
import type { Transport } from './transport/index.js';
import { connectTcp } from './transport/tcp.js';
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

/** Where a URI leads: a unix socket file or a TCP address. */
export type RpcEndpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * The endpoint of a connection URI: `qemu:///system` and `qemu+unix://` lead to a socket
 * (the `socket` parameter or the default path), `qemu+tcp://HOST[:PORT]` to HOST:PORT (port
 * 16509 as libvirtd's). Transports not built yet fail with NO_SUPPORT naming what does work.
 */
export function endpointOf(uri: ConnectionUri, env: NodeJS.ProcessEnv = process.env): RpcEndpoint {
  switch (uri.transport) {
    case 'unix':
      return { kind: 'unix', path: uri.params['socket'] ?? defaultSocketPath(`/${uri.path}`, env) };
    case 'tcp':
      // parseConnectionUri guarantees a host for tcp; the check keeps the type honest.
      if (uri.host === undefined) {
        throw new FerryError('INVALID_ARG', `Invalid connection URI '${uri.text}': no host`);
      }
      return { kind: 'tcp', host: uri.host, port: uri.port ?? DEFAULT_TCP_PORT };
    case 'tls':
    case 'ssh':
      throw new FerryError(
        'NO_SUPPORT',
        `Transport '${uri.transport}' of URI '${uri.text}' is not supported yet (it arrives with the remote transports issue); use qemu+tcp://HOST:PORT/system or qemu+unix:///system?socket=PATH`,
      );
  }
}

function splitOptions(options: ConnectRpcOptions): {
  transport: { timeoutMs?: number; maxFrameBytes?: number };
  client: RpcClientOptions;
} {
  const { connectTimeoutMs, maxFrameBytes, ...client } = options;
  return {
    transport: {
      ...(connectTimeoutMs === undefined ? {} : { timeoutMs: connectTimeoutMs }),
      ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
    },
    client,
  };
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
  const { transport, client } = splitOptions(options);
  return new RpcClient(await connectUnix(path, transport), methods, client);
}

/**
 * Connects to the ferryd a connection URI names (see {@link endpointOf}) and returns a
 * client for `methods`. Fails with NO_SUPPORT for transports not built yet, INVALID_ARG for
 * a bad URI path, and CONNECT_FAILED when nobody answers ("Failed to connect to 'HOST:PORT':
 * Connection refused", "Failed to connect socket to 'PATH': No such file or directory").
 */
export async function connectUri<M extends MethodTable>(
  uri: ConnectionUri,
  methods: M | undefined,
  options: ConnectRpcOptions = {},
): Promise<RpcClient<M>> {
  const endpoint = endpointOf(uri);
  const { transport: transportOptions, client } = splitOptions(options);
  const transport: Transport =
    endpoint.kind === 'unix'
      ? await connectUnix(endpoint.path, transportOptions)
      : await connectTcp(endpoint.host, endpoint.port, transportOptions);
  return new RpcClient(transport, methods, client);
}
