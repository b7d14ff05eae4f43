/**
 * The network listeners ferryd.conf asks for (libvirtd's keys): TCP (`listen_tcp`, `tcp_port`,
 * `auth_tcp`), TLS (`listen_tls`, `tls_port`, `auth_tls`, `key_file`, `cert_file`, `ca_file`,
 * `crl_file`, `tls_no_verify_certificate`, `tls_allowed_dn_list`), the shared `listen_addr`,
 * and the accounts file SASL logins are checked against (`auth_users_file`).
 * @module
 */
import { DEFAULT_ACCOUNTS_FILE } from '../auth/accounts.js';
import { DEFAULT_TCP_PORT, DEFAULT_TLS_PORT } from '../common/uri.js';
import { SERVER_PKI_DEFAULTS } from '../pki/paths.js';
import type { TlsServerFiles } from '../rpc/index.js';
import type { Settings } from './config.js';

/** How clients on a network listener prove who they are (libvirt's auth_tcp / auth_tls). */
export type AuthScheme = 'none' | 'sasl';

export interface TcpListen {
  address: string;
  port: number;
  /** "sasl" (libvirt's default): every client logs in; "none": anyone who reaches the port. */
  auth: AuthScheme;
}

export interface TlsListen {
  address: string;
  port: number;
  /** "none" (default): the client certificate is the authentication; "sasl": a login as well. */
  auth: AuthScheme;
  files: TlsServerFiles;
  /** false with tls_no_verify_certificate = 1: client certificates are not checked at all. */
  verifyClients: boolean;
  /** tls_allowed_dn_list, or undefined to let in any certificate the CA signed. */
  allowedDns: readonly string[] | undefined;
}

const DEFAULT_LISTEN_ADDR = '127.0.0.1';

function str(settings: Settings, key: keyof Settings): string | undefined {
  const v = settings[key];
  return typeof v === 'string' ? v : undefined;
}

function num(settings: Settings, key: keyof Settings): number | undefined {
  const v = settings[key];
  return typeof v === 'number' ? v : undefined;
}

/** The TCP listener asked for (listen_tcp = 1), if any; SASL logins unless auth_tcp = "none". */
export function tcpListen(settings: Settings): TcpListen | undefined {
  if (settings.listen_tcp !== 1) return undefined;
  return {
    address: str(settings, 'listen_addr') ?? DEFAULT_LISTEN_ADDR,
    port: num(settings, 'tcp_port') ?? DEFAULT_TCP_PORT,
    auth: (str(settings, 'auth_tcp') ?? 'sasl') as AuthScheme,
  };
}

/** The TLS listener asked for (listen_tls = 1), if any, with libvirtd's default file paths. */
export function tlsListen(settings: Settings): TlsListen | undefined {
  if (settings.listen_tls !== 1) return undefined;
  const dns = settings.tls_allowed_dn_list;
  const crlFile = str(settings, 'crl_file');
  return {
    address: str(settings, 'listen_addr') ?? DEFAULT_LISTEN_ADDR,
    port: num(settings, 'tls_port') ?? DEFAULT_TLS_PORT,
    auth: (str(settings, 'auth_tls') ?? 'none') as AuthScheme,
    files: {
      keyFile: str(settings, 'key_file') ?? SERVER_PKI_DEFAULTS.keyFile,
      certFile: str(settings, 'cert_file') ?? SERVER_PKI_DEFAULTS.certFile,
      caFile: str(settings, 'ca_file') ?? SERVER_PKI_DEFAULTS.caFile,
      ...(crlFile === undefined ? {} : { crlFile }),
    },
    verifyClients: settings.tls_no_verify_certificate !== 1,
    allowedDns: Array.isArray(dns) ? (dns as readonly string[]) : undefined,
  };
}

/** auth_users_file, default /etc/ferry/users. */
export function accountsFileOf(settings: Settings): string {
  return str(settings, 'auth_users_file') ?? DEFAULT_ACCOUNTS_FILE;
}
