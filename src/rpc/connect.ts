/**
 * Reaching a ferryd: where the local one listens, and one connect-by-URI for the CLI and
 * for peer (ferryd to ferryd) connections alike, so both accept the same URIs.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { DEFAULT_TCP_PORT, DEFAULT_TLS_PORT, type ConnectionUri } from '../common/uri.js';
import { clientPkiPaths, type ClientPkiPaths } from '../pki/paths.js';
import { RpcClient } from './client.js';
import type { RpcClientOptions, TypedClient } from './client.js';
import { fileCredentials, logIn, type CredentialProvider } from './login.js';
import type { MethodTable } from './spec.js';
import { loadClientPki, explainTlsRefusal } from './tls-client.js';
import type { Transport } from './transport/index.js';
import { connectTcp } from './transport/tcp.js';
import { connectTls } from './transport/tls.js';
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
  /** Credentials for a server that asks for a login (default: the auth files only). */
  credentials?: CredentialProvider;
  /** Receives warnings meant for the user (e.g. that no_verify=1 skips the server's checks). */
  onWarning?: (text: string) => void;
}

/** Where a URI leads: a unix socket file, a TCP address, or a TLS address and its files. */
export type RpcEndpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | {
      readonly kind: 'tls';
      readonly host: string;
      readonly port: number;
      readonly pki: ClientPkiPaths;
      /** false with `no_verify=1`: the server's certificate and name are not checked. */
      readonly verifyServer: boolean;
    }
  | { readonly kind: 'ssh'; readonly target: SshTarget };

/** The host of a remote URI (parseConnectionUri guarantees one; the check keeps types honest). */
function hostOf(uri: ConnectionUri): string {
  if (uri.host === undefined)
    throw new FerryError('INVALID_ARG', `Invalid connection URI '${uri.text}': no host`);
  return uri.host;
}

/**
 * The endpoint of a connection URI: `qemu:///system` and `qemu+unix://` lead to a socket
 * (the `socket` parameter or the default path), `qemu+tcp://HOST[:PORT]` to HOST:PORT (port
 * 16509 as libvirtd's), `qemu+tls://HOST[:PORT]` (and `qemu://HOST`) to HOST:PORT (16514)
 * with the client files of `pkipath` or the default ones, `qemu+ssh://[USER@]HOST` to an ssh
 * connection to that host's ferryd socket.
 */
export function endpointOf(uri: ConnectionUri, env: NodeJS.ProcessEnv = process.env): RpcEndpoint {
  switch (uri.transport) {
    case 'unix':
      return { kind: 'unix', path: uri.params['socket'] ?? defaultSocketPath(`/${uri.path}`, env) };
    case 'tcp':
      return { kind: 'tcp', host: hostOf(uri), port: uri.port ?? DEFAULT_TCP_PORT };
    case 'tls': {
      const noVerify = uri.params['no_verify'] ?? '0';
      if (noVerify !== '0' && noVerify !== '1')
        throw new FerryError(
          'INVALID_ARG',
          `Invalid connection URI '${uri.text}': no_verify must be 0 or 1, not '${noVerify}'`,
        );
      return {
        kind: 'tls',
        host: hostOf(uri),
        port: uri.port ?? DEFAULT_TLS_PORT,
        pki: clientPkiPaths(uri.params['pkipath']),
        verifyServer: noVerify === '0',
      };
    }
    case 'ssh':
      return { kind: 'ssh', target: sshTargetOf(uri) };
  }
}

/** URI parameters the ssh transport understands, as libvirt's (plus `socket`). */
const SSH_PARAMS = new Set(['keyfile', 'no_verify', 'socket', 'command', 'no_tty']);

function sshTargetOf(uri: ConnectionUri): SshTarget {
  const unknown = Object.keys(uri.params).filter((k) => !SSH_PARAMS.has(k));
  if (unknown.length > 0)
    throw new FerryError(
      'INVALID_ARG',
      `Invalid connection URI '${uri.text}': unknown parameter '${unknown[0]}' (ssh takes ${[...SSH_PARAMS].join(', ')})`,
    );
  const flag = (k: string): boolean => uri.params[k] !== undefined && uri.params[k] !== '0';
  return {
    host: hostOf(uri),
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
  const { connectTimeoutMs, maxFrameBytes, logger, timeoutMs, keepalive } = options;
  return {
    transport: {
      ...(connectTimeoutMs === undefined ? {} : { timeoutMs: connectTimeoutMs }),
      ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
    },
    client: {
      ...(logger === undefined ? {} : { logger }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(keepalive === undefined ? {} : { keepalive }),
    },
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

async function openTransport(
  endpoint: RpcEndpoint,
  options: { timeoutMs?: number; maxFrameBytes?: number },
  onWarning: ((text: string) => void) | undefined,
): Promise<Transport> {
  switch (endpoint.kind) {
    case 'unix':
      return connectUnix(endpoint.path, options);
    case 'tcp':
      return connectTcp(endpoint.host, endpoint.port, options);
    case 'ssh':
      // ssh's own connect (DNS, handshake, keys) takes longer than a socket's.
      return connectSsh(endpoint.target, {
        ...options,
        timeoutMs: Math.max(options.timeoutMs ?? 0, 20_000),
      });
    case 'tls': {
      if (!endpoint.verifyServer)
        onWarning?.(
          `no_verify=1: the certificate of ${endpoint.host} is not checked, so anyone on the network path can pose as it`,
        );
      const files = loadClientPki(endpoint.pki, endpoint.verifyServer);
      return connectTls(endpoint.host, endpoint.port, {
        ...options,
        ...files,
        caFile: endpoint.pki.ca,
        verifyServer: endpoint.verifyServer,
      });
    }
  }
}

/**
 * Connects to the ferryd a connection URI names (see {@link endpointOf}), logs in when it asks
 * for it (tcp, tls), and returns a client for `methods`. Fails with INVALID_ARG for a bad URI, CONNECT_FAILED when nobody answers ("Failed to connect to
 * 'HOST:PORT': Connection refused", "Failed to connect socket to 'PATH': No such file or
 * directory"), and AUTH_FAILED when a certificate or the credentials are refused.
 */
export async function connectUri<M extends MethodTable>(
  uri: ConnectionUri,
  methods: M | undefined,
  options: ConnectRpcOptions = {},
): Promise<RpcClient<M>> {
  const endpoint = endpointOf(uri);
  const { transport: transportOptions, client: clientOptions } = splitOptions(options);
  const transport = await openTransport(endpoint, transportOptions, options.onWarning);
  const client = new RpcClient(transport, methods, clientOptions);
  // ssh ends at the remote ferryd's unix socket: whoever ssh let in is root there already.
  if (endpoint.kind === 'unix' || endpoint.kind === 'ssh') return client;
  try {
    // Every real table has the auth methods; a table without them makes auth.list fail as
    // METHOD_NOT_FOUND, which logIn takes as "no login needed".
    await logIn(
      client,
      { host: endpoint.host, user: uri.user, authfile: uri.params['authfile'] },
      options.credentials ?? fileCredentials(),
    );
  } catch (err) {
    client.close();
    throw endpoint.kind === 'tls' ? explainTlsRefusal(err, endpoint.pki) : err;
  }
  return client;
}
