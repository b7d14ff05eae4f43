/**
 * Reaching a ferryd: where the local one listens, and one connect-by-URI for the CLI and
 * for peer (ferryd to ferryd) connections alike, so both accept the same URIs.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { DEFAULT_TCP_PORT, type ConnectionUri } from '../common/uri.js';
import { RpcClient } from './client.js';
import type { RpcClientOptions, TypedClient } from './client.js';
import type { MethodTable } from './spec.js';
import type { Transport } from './transport/index.js';
import { connectTcp } from './transport/tcp.js';
import { connectUnix } from './transport/unix.js';
import { connectSsh, type SshTarget } from './transport/ssh.js';
import { defaultSocketPath } from './socket-path.js';

export { SOCKET_NAME, defaultSocketPath } from './socket-path.js';

/** A connected client as callers see it: typed calls, events, close. */
export interface TypedRpcClient<M extends MethodTable> extends TypedClient<M> {
  readonly closed: boolean;
  onNotification: RpcClient<M>['onNotification'];
  onClose: RpcClient<M>['onClose'];
  close(): void;
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
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'ssh'; readonly target: SshTarget };

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
    case 'ssh':
      return { kind: 'ssh', target: sshTargetOf(uri) };
    case 'tls':
      throw new FerryError(
        'NO_SUPPORT',
        `Transport '${uri.transport}' of URI '${uri.text}' is not supported yet (it arrives with the remote transports issue); use qemu+tcp://HOST:PORT/system or qemu+unix:///system?socket=PATH`,
      );
  }
}

/** URI parameters the ssh transport understands, as libvirt's (plus `socket`). */
const SSH_PARAMS = new Set(['keyfile', 'no_verify', 'socket', 'command', 'no_tty']);

function sshTargetOf(uri: ConnectionUri): SshTarget {
  if (uri.host === undefined)
    throw new FerryError('INVALID_ARG', `Invalid connection URI '${uri.text}': no host`);
  const unknown = Object.keys(uri.params).filter((k) => !SSH_PARAMS.has(k));
  if (unknown.length > 0)
    throw new FerryError(
      'INVALID_ARG',
      `Invalid connection URI '${uri.text}': unknown parameter '${unknown[0]}' (ssh takes ${[...SSH_PARAMS].join(', ')})`,
    );
  const flag = (k: string): boolean => uri.params[k] !== undefined && uri.params[k] !== '0';
  return {
    host: uri.host,
    port: uri.port,
    user: uri.user,
    keyfile: uri.params['keyfile'],
    noVerify: flag('no_verify'),
    socket: uri.params['socket'],
    uriPath: uri.path,
    sshCommand: uri.params['command'],
    // A person at a terminal may answer a passphrase prompt; nobody else can.
    interactive: !flag('no_tty') && process.stdin.isTTY && process.stderr.isTTY,
  };
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
  let transport: Transport;
  switch (endpoint.kind) {
    case 'unix':
      transport = await connectUnix(endpoint.path, transportOptions);
      break;
    case 'tcp':
      transport = await connectTcp(endpoint.host, endpoint.port, transportOptions);
      break;
    case 'ssh':
      // ssh's own connect (DNS, handshake, keys) takes longer than a socket's.
      transport = await connectSsh(endpoint.target, {
        ...transportOptions,
        timeoutMs: Math.max(transportOptions.timeoutMs ?? 0, 20_000),
      });
      break;
  }
  return new RpcClient(transport, methods, client);
}
