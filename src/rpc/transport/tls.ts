/**
 * TLS listener and connector (`qemu+tls://HOST[:16514]/system`, libvirtd's listen_tls):
 * mutual TLS over TCP. The server presents its certificate and, unless told not to verify,
 * requires a client certificate signed by its CA (and, with `tls_allowed_dn_list`, a DN it
 * lists). A refused client is told why in one JSON-RPC error frame before the server hangs
 * up, and the refusal is reported to the caller for its log; the listener keeps serving.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import {
  connect as tlsConnect,
  createSecureContext,
  createServer,
  type SecureContextOptions,
  type TLSSocket,
} from 'node:tls';
import { FerryError, messageOf } from '../../common/errors.js';
import { describeErrno } from '../../common/node/errno.js';
import { encodeFrame } from '../framing.js';
import { makeError } from '../protocol.js';
import type { LocalEndpoint, Transport } from './index.js';
import { acceptStream, closeServer, StreamTransport } from './stream.js';
import type { StreamTransportOptions } from './stream.js';
import {
  bindTcp,
  formatHostPort,
  plainAddress,
  socketEnds,
  tune,
  type TcpListener,
} from './tcp.js';
import { dnAllowed, subjectDn } from './tls-dn.js';

/** A client that has not finished its handshake by then is dropped (slow or idle clients). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The server's files, by ferryd.conf key (libvirtd's names). */
export interface TlsServerFiles {
  readonly keyFile: string;
  readonly certFile: string;
  readonly caFile: string;
  readonly crlFile?: string | undefined;
}

/** Why a client was refused, for the server's log. */
export interface TlsRefusal {
  readonly peer: string;
  readonly reason: string;
  /** The client certificate's DN, when it sent one. */
  readonly dn?: string | undefined;
}

/** Which clients a TLS listener lets in. */
export interface TlsClientPolicy {
  /** false (tls_no_verify_certificate = 1): accept clients without checking their certificates. */
  readonly verify: boolean;
  /** tls_allowed_dn_list: client DNs (globs) let in; undefined lets in any the CA signed. */
  readonly allowedDns?: readonly string[] | undefined;
}

export interface ListenTlsOptions extends Omit<StreamTransportOptions, 'peer' | 'local'> {
  files: TlsServerFiles;
  clients: TlsClientPolicy;
  onError?: (err: Error) => void;
  /** Called for each client refused or whose handshake failed. */
  onRefused?: (refusal: TlsRefusal) => void;
  /** Called for each client let in, with its certificate's DN. */
  onAccepted?: (info: { peer: string; dn: string | undefined }) => void;
}

export interface ConnectTlsOptions extends Omit<StreamTransportOptions, 'peer' | 'local'> {
  timeoutMs?: number;
  /** PEM: the CA to trust, and this client's certificate and key (both or neither). */
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** Where `ca` came from, for error messages. */
  caFile?: string | undefined;
  /** false (URI `no_verify=1`): the server's certificate and name are not checked. */
  verifyServer: boolean;
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new FerryError('SYSTEM_ERROR', `Cannot read ${key} '${file}': ${describeErrno(err)}`, {
      cause: err,
    });
  }
}

/**
 * Loads the server's key, certificate, CA and CRL and checks that they fit together; a problem
 * names the file and its ferryd.conf key.
 */
export function loadServerCredentials(files: TlsServerFiles): SecureContextOptions {
  const key = readPem(files.keyFile, 'key_file');
  const cert = readPem(files.certFile, 'cert_file');
  const ca = readPem(files.caFile, 'ca_file');
  const crl = files.crlFile === undefined ? undefined : readPem(files.crlFile, 'crl_file');
  const options: SecureContextOptions = {
    key,
    cert,
    ca,
    ...(crl === undefined ? {} : { crl }),
    minVersion: 'TLSv1.2',
  };
  try {
    createSecureContext(options);
    return options;
  } catch (err) {
    throw new FerryError(
      'INVALID_ARG',
      `Cannot use TLS key_file '${files.keyFile}', cert_file '${files.certFile}' and ca_file '${files.caFile}': ${messageOf(err)}`,
      { cause: err },
    );
  }
}

/** OpenSSL's ways of saying that a certificate was not signed by a CA this side trusts. */
const UNKNOWN_ISSUER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);
const unknownIssuer = (code: string | undefined): string | undefined =>
  code !== undefined && UNKNOWN_ISSUER.has(code) ? 'UNKNOWN_ISSUER' : code;

/** What is wrong with a client certificate OpenSSL did not accept, in words. */
function clientCertProblem(code: string | undefined): { reason: string; text: string } {
  switch (unknownIssuer(code)) {
    case 'UNKNOWN_ISSUER':
      return {
        reason: 'unknown-ca',
        text: 'the server does not trust the CA that signed the client certificate',
      };
    case 'CERT_HAS_EXPIRED':
      return { reason: 'expired', text: 'the client certificate has expired' };
    case 'CERT_NOT_YET_VALID':
      return { reason: 'not-yet-valid', text: 'the client certificate is not valid yet' };
    case 'CERT_REVOKED':
      return { reason: 'revoked', text: 'the client certificate has been revoked' };
    case 'INVALID_PURPOSE':
      return {
        reason: 'purpose',
        text: 'the client certificate is not meant for TLS clients (no clientAuth usage)',
      };
    default:
      return {
        reason: 'rejected',
        text: `the client certificate was rejected (${code ?? 'unknown reason'})`,
      };
  }
}

/** Why `socket` (handshake done) may not be served, or undefined when it may. */
function refusalOf(
  socket: TLSSocket,
  clients: TlsClientPolicy,
): { reason: string; text: string; dn: string | undefined } | undefined {
  const cert = socket.getPeerX509Certificate();
  const dn = cert === undefined ? undefined : subjectDn(cert);
  if (!clients.verify) return undefined;
  if (cert === undefined)
    return {
      reason: 'no-certificate',
      text: 'the server requires a TLS client certificate and none was sent',
      dn,
    };
  if (!socket.authorized) {
    // Node sets the OpenSSL code itself (a string such as 'CERT_HAS_EXPIRED'), although its
    // types say Error.
    const error: unknown = socket.authorizationError;
    const code = typeof error === 'string' ? error : (error as { code?: string } | null)?.code;
    return { ...clientCertProblem(code), dn };
  }
  if (clients.allowedDns !== undefined && !dnAllowed(dn ?? '', clients.allowedDns))
    return {
      reason: 'dn-not-allowed',
      text: `client certificate DN '${dn ?? ''}' is not in the server's tls_allowed_dn_list`,
      dn,
    };
  return undefined;
}

/** Tells a refused client why in one error frame, reads until it hangs up, then lets go. */
function refuse(socket: TLSSocket, reason: string, text: string): void {
  const error = new FerryError('AUTH_FAILED', `authentication failed: ${text}`, {
    data: { reason },
  });
  socket.end(encodeFrame(makeError(null, error), 64 * 1024));
  // Unread input would make the kernel reset the connection, losing the frame on its way.
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
}

/**
 * The address a failed handshake came from. Node has closed the TLS socket's handle by then,
 * so its own address is gone; the plain socket it wrapped (`_parent`) still knows it.
 */
function handshakePeer(socket: TLSSocket, peers: WeakMap<object, string>): string {
  const parent = (socket as TLSSocket & { _parent?: unknown })._parent;
  const known = parent instanceof Object ? peers.get(parent) : undefined;
  return `tls:${known ?? 'unknown address'}`;
}

/**
 * Listens for TLS clients on HOST:PORT (port 0: any free port). Fails like listenTcp, and
 * with a message naming the file when a key, certificate, CA or CRL cannot be used.
 */
export async function listenTls(
  host: string,
  port: number,
  onConnection: (transport: Transport) => void,
  options: ListenTlsOptions,
): Promise<TcpListener> {
  const { files, clients, onError, onRefused, onAccepted, ...transportOptions } = options;
  const transports = new Set<Transport>();
  // The OpenSSL verdict on the client certificate is read after the handshake rather than
  // enforced in it, so that a refused client can be told why in words.
  const server = createServer({
    ...loadServerCredentials(files),
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  const peers = new WeakMap<object, string>();
  server.prependListener('connection', (raw: Socket) => {
    const ends = socketEnds(raw);
    if (ends !== undefined) peers.set(raw, ends.remote);
    tune(raw);
  });
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    const hungUp = err.code === 'ECONNRESET';
    onRefused?.({
      peer: handshakePeer(socket, peers),
      reason: hungUp
        ? "the client hung up during the TLS handshake (did it refuse this server's certificate?)"
        : `TLS handshake failed: ${err.message}`,
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const ends = socketEnds(socket);
    if (ends === undefined) {
      socket.destroy();
      return;
    }
    const peer = `tls:${ends.remote}`;
    const refusal = refusalOf(socket, clients);
    if (refusal !== undefined) {
      socket.on('error', () => undefined);
      onRefused?.({ peer, reason: refusal.text, dn: refusal.dn });
      refuse(socket, refusal.reason, refusal.text);
      return;
    }
    const cert = socket.getPeerX509Certificate();
    onAccepted?.({ peer, dn: cert === undefined ? undefined : subjectDn(cert) });
    const local: LocalEndpoint = { kind: 'tls', ...ends.local };
    acceptStream(socket, { ...transportOptions, peer, local }, transports, onConnection, onError);
  });
  const address = await bindTcp(server, host, port);
  server.on('error', (err: Error) => onError?.(err));
  return { address, close: () => closeServer(server, transports) };
}

/** The server-certificate failure behind a client handshake error, in one line. */
function serverCertProblem(
  err: Error & { code?: string; reason?: string },
  where: string,
  host: string,
  caFile: string | undefined,
): FerryError {
  const ca = caFile === undefined ? 'the CA this client trusts' : `the CA in '${caFile}'`;
  let text: string;
  switch (unknownIssuer(err.code)) {
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      text = `Server certificate of ${where} is not valid for '${host}' (${err.reason ?? err.message})`;
      break;
    case 'UNKNOWN_ISSUER':
      text = `Server certificate of ${where} is not signed by ${ca}`;
      break;
    case 'CERT_HAS_EXPIRED':
      text = `Server certificate of ${where} has expired`;
      break;
    case 'CERT_NOT_YET_VALID':
      text = `Server certificate of ${where} is not valid yet`;
      break;
    case 'INVALID_PURPOSE':
      text = `Server certificate of ${where} is not meant for TLS servers (no serverAuth usage)`;
      break;
    default:
      return new FerryError(
        'CONNECT_FAILED',
        `Failed to connect to '${where}': ${describeErrno(err)}`,
        {
          cause: err,
        },
      );
  }
  return new FerryError('AUTH_FAILED', text, { cause: err, data: { reason: err.code } });
}

/**
 * Connects to HOST:PORT over TLS and wraps the socket in a {@link StreamTransport}. Fails with
 * CONNECT_FAILED when nobody answers and AUTH_FAILED when the server's certificate is not
 * acceptable (unknown CA, wrong name, expired), each one line naming HOST:PORT.
 */
export function connectTls(
  host: string,
  port: number,
  options: ConnectTlsOptions,
): Promise<Transport> {
  const { timeoutMs = 5000, ca, cert, key, caFile, verifyServer, ...transportOptions } = options;
  const where = formatHostPort(host, port);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined || key === undefined ? {} : { cert, key }),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: verifyServer,
      ...(verifyServer ? {} : { checkServerIdentity: () => undefined }),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new FerryError('CONNECT_FAILED', `Failed to connect to '${where}': Connection timed out`),
      );
    }, timeoutMs);
    const onError = (err: Error & { code?: string }): void => {
      clearTimeout(timer);
      reject(serverCertProblem(err, where, host, caFile));
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      tune(socket);
      const local: LocalEndpoint | undefined =
        socket.localAddress === undefined || socket.localPort === undefined
          ? undefined
          : { kind: 'tls', address: plainAddress(socket.localAddress), port: socket.localPort };
      resolve(new StreamTransport(socket, { ...transportOptions, peer: `tls:${where}`, local }));
    });
  });
}
