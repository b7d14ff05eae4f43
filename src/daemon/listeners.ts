/**
 * ferryd's listeners: the root-only unix socket always, TCP, TLS and the web console when
 * ferryd.conf asks.
 * All open or none do: a listener that cannot open closes the ones already open, and the
 * error says which address or file is at fault.
 * @module
 */
import type { ConsoleServer } from '../console/index.js';
import { messageOf } from '../common/errors.js';
import {
  formatHostPort,
  listenTcp,
  listenTls,
  listenUnix,
  type TcpListener,
  type Transport,
  type UnixListener,
} from '../rpc/index.js';
import type { DaemonConfig } from './config.js';

/** The subset of pino's logger the listeners log to. */
interface ListenerLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Listeners {
  readonly unix: UnixListener;
  readonly tcp: TcpListener | undefined;
  readonly tls: TcpListener | undefined;
  /** `HOST:PORT` actually bound (the real port when 0 was asked for), for the ready line. */
  readonly tcpAddress: string | undefined;
  readonly tlsAddress: string | undefined;
  readonly console: ConsoleServer | undefined;
  /** The console's `HOST:PORT` and URL, for the ready line. */
  readonly consoleAddress: string | undefined;
  readonly consoleUrl: string | undefined;
}

/**
 * Opens every listener `config` asks for, handing each connection to `handle`; `openConsole`
 * opens the web console's (when console_enabled = 1), last.
 */
export async function openListeners(
  config: DaemonConfig,
  handle: (transport: Transport) => void,
  log: ListenerLog,
  openConsole?: () => Promise<ConsoleServer>,
): Promise<Listeners> {
  const common = {
    maxFrameBytes: config.maxFrameBytes,
    onError: (err: Error) => log.error({ err: messageOf(err) }, 'listener error'),
  };
  const opened: { close(): Promise<void> }[] = [];
  try {
    const unix = await listenUnix(config.socket, handle, common);
    opened.push(unix);
    const tcp =
      config.tcp === undefined
        ? undefined
        : await listenTcp(config.tcp.address, config.tcp.port, handle, common);
    if (tcp !== undefined) opened.push(tcp);
    const { tls: want } = config;
    if (want !== undefined && !want.verifyClients)
      log.warn(
        { tls: formatHostPort(want.address, want.port) },
        'tls_no_verify_certificate = 1: client certificates are not checked; anyone who reaches the TLS port is let in',
      );
    const tls =
      want === undefined
        ? undefined
        : await listenTls(want.address, want.port, handle, {
            ...common,
            files: want.files,
            clients: { verify: want.verifyClients, allowedDns: want.allowedDns },
            onRefused: (refusal) => log.warn({ ...refusal }, 'TLS client refused'),
            onAccepted: (info) => log.info({ ...info }, 'TLS client accepted'),
          });
    if (tls !== undefined) opened.push(tls);
    const web =
      config.console === undefined || openConsole === undefined ? undefined : await openConsole();
    const address = (l: TcpListener | undefined): string | undefined =>
      l === undefined ? undefined : formatHostPort(l.address.address, l.address.port);
    return {
      unix,
      tcp,
      tls,
      tcpAddress: address(tcp),
      tlsAddress: address(tls),
      console: web,
      consoleAddress: web === undefined ? undefined : formatHostPort(web.address, web.port),
      consoleUrl: web?.url,
    };
  } catch (err) {
    await Promise.all(opened.map((l) => l.close()));
    throw err;
  }
}

/** Closes every listener and the connections they accepted. */
export async function closeListeners(listeners: Listeners): Promise<void> {
  await Promise.all([
    listeners.unix.close(),
    listeners.tcp?.close(),
    listeners.tls?.close(),
    listeners.console?.close(),
  ]);
}
