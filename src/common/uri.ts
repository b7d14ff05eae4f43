/**
 * Connection URIs the libvirt way: `driver[+transport]://[user@][host][:port]/path[?params]`.
 * @module
 */
import { FerryError } from './errors.js';

export type UriTransport = 'unix' | 'tcp' | 'tls' | 'ssh';

/** libvirtd's port for `qemu+tcp://` (the seed chapter swaps it with TLS's 16514). */
export const DEFAULT_TCP_PORT = 16509;
/** libvirtd's port for `qemu+tls://`. */
export const DEFAULT_TLS_PORT = 16514;

export interface ConnectionUri {
  /** The URI as given. */
  text: string;
  driver: 'qemu';
  transport: UriTransport;
  user: string | undefined;
  host: string | undefined;
  port: number | undefined;
  /** 'system' or 'session'. */
  path: 'system' | 'session';
  params: Record<string, string>;
}

const TRANSPORTS: readonly UriTransport[] = ['unix', 'tcp', 'tls', 'ssh'];

/** Parses a connection URI; anything off gives an INVALID_ARG error naming the URI. */
export function parseConnectionUri(text: string): ConnectionUri {
  const bad = (why: string): FerryError =>
    new FerryError('INVALID_ARG', `Invalid connection URI '${text}': ${why}`);
  const m =
    /^([a-z0-9]+)(?:\+([a-z]+))?:\/\/(?:([^@/?]*)@)?(\[[^\]]*\]|[^:/?]*)(?::(\d*))?(\/[^?]*)?(?:\?(.*))?$/i.exec(
      text,
    );
  if (m === null) throw bad('expected driver[+transport]://[host]/system');
  const [, driver = '', transport, user, rawHost = '', port, path, query] = m;
  if (driver !== 'qemu') throw bad(`unsupported driver '${driver}' (only qemu)`);
  const host = rawHost.replace(/^\[|\]$/g, '') || undefined;
  let t: UriTransport;
  if (transport === undefined) t = host === undefined ? 'unix' : 'tls';
  else if ((TRANSPORTS as readonly string[]).includes(transport)) t = transport as UriTransport;
  else throw bad(`unsupported transport '${transport}'`);
  if (t === 'unix' && host !== undefined) throw bad('a unix transport takes no host');
  if ((t === 'tcp' || t === 'tls' || t === 'ssh') && host === undefined)
    throw bad(`the ${t} transport needs a host`);
  const p = (path ?? '').replace(/\/+$/, '');
  if (p !== '/system' && p !== '/session')
    throw bad(`path must be /system or /session, not '${p || '/'}'`);
  let portNum: number | undefined;
  if (port !== undefined && port !== '') {
    portNum = Number(port);
    if (!Number.isInteger(portNum) || portNum < 1 || portNum > 65535)
      throw bad(`port '${port}' is out of range`);
  }
  const params: Record<string, string> = {};
  for (const pair of (query ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    params[key] = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
  }
  return {
    text,
    driver: 'qemu',
    transport: t,
    user: user === undefined || user === '' ? undefined : decodeURIComponent(user),
    host,
    port: portNum,
    path: p === '/system' ? 'system' : 'session',
    params,
  };
}
