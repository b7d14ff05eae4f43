/**
 * The network listeners ferryd.conf asks for (libvirtd's keys): TCP (`listen_tcp`, `tcp_port`,
 * `auth_tcp`), TLS (`listen_tls`, `tls_port`, `auth_tls`, `key_file`, `cert_file`, `ca_file`,
 * `crl_file`, `tls_no_verify_certificate`, `tls_allowed_dn_list`), the shared `listen_addr`,
 * the accounts file SASL logins (and web console sign-ins) are checked against
 * (`auth_users_file`), and the web console's listener (`console_enabled`,
 * `console_listen_addr`, `console_port`, `console_tls`, `console_web_dir`).
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

/** The web console's listener (console_enabled = 1). */
export interface ConsoleListen {
  address: string;
  /** 0 binds any free port (logged in the 'ferryd ready' line). */
  port: number;
  /** console_tls = 1: HTTPS with the host's certificate (key_file, cert_file as listen_tls). */
  tls: { keyFile: string; certFile: string } | undefined;
  /** console_web_dir: the built front end to serve instead of ferryd's own dist/web. */
  webDir: string | undefined;
}

const DEFAULT_LISTEN_ADDR = '127.0.0.1';
/** Cockpit's port, where an administrator of the chapter looks for a web console. */
export const DEFAULT_CONSOLE_PORT = 9090;

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

/**
 * The web console's listener (console_enabled = 1), if any: loopback only unless
 * console_listen_addr says otherwise (listen_addr is not used: opening the RPC port to the
 * network must not put the console there too).
 */
export function consoleListen(settings: Settings): ConsoleListen | undefined {
  if (settings.console_enabled !== 1) return undefined;
  return {
    address: str(settings, 'console_listen_addr') ?? DEFAULT_LISTEN_ADDR,
    port: num(settings, 'console_port') ?? DEFAULT_CONSOLE_PORT,
    tls:
      settings.console_tls === 1
        ? {
            keyFile: str(settings, 'key_file') ?? SERVER_PKI_DEFAULTS.keyFile,
            certFile: str(settings, 'cert_file') ?? SERVER_PKI_DEFAULTS.certFile,
          }
        : undefined,
    webDir: str(settings, 'console_web_dir'),
  };
}
