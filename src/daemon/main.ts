/**
 * ferryd: one per host, in the foreground, logging JSON lines to stderr. The composition
 * root: configuration, the host's domains, the RPC server on the local unix socket (and on
 * TCP when listen_tcp = 1). Nothing imports this folder.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { messageOf } from '../common/errors.js';
import { FERRY_VERSION } from '../common/version.js';
import { DomainManager, loadHostUuid } from '../host/index.js';
import { IncomingMigrations, MigrationJournal, recoverJobs } from '../migration/index.js';
import { probeQemuVersion } from '../qemu/index.js';
import {
  formatHostPort,
  listenTcp,
  listenUnix,
  RpcServer,
  type TcpListener,
} from '../rpc/index.js';
import { METHODS, type Methods } from '../rpc/methods.js';
import { loadConfig, type ConfigFlags } from './config.js';
import { createHandlers, newConnectionState, type ConnectionState } from './handlers.js';

function parseFlags(argv: readonly string[]): ConfigFlags {
  const program = new Command('ferryd')
    .description('Ferry host daemon: runs and migrates the QEMU guests of this host')
    .version(FERRY_VERSION, '-v, --version')
    .option('--config <file>', 'configuration file (default /etc/ferry/ferryd.conf)')
    .option(
      '--state-dir <dir>',
      'persistent state: definitions, host UUID (default /var/lib/ferry)',
    )
    .option('--run-dir <dir>', 'runtime state: sockets, pid files, status (default /run/ferry)')
    .option('--socket <path>', 'RPC unix socket (default RUN_DIR/ferry-sock)')
    .configureOutput({
      outputError: (text, write) => write(text.startsWith('error:') ? text : `error: ${text}`),
    })
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  return program.opts<ConfigFlags>();
}

/** Runs the daemon until SIGTERM or SIGINT; running guests are left running. */
export async function runDaemon(argv: readonly string[]): Promise<void> {
  let flags: ConfigFlags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    process.exitCode = err instanceof CommanderError ? err.exitCode : 1;
    return;
  }
  let config;
  try {
    config = loadConfig(flags);
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    mkdirSync(config.runDir, { recursive: true, mode: 0o755 });
  } catch (err) {
    process.stderr.write(`error: ${messageOf(err)}\n`);
    process.exitCode = 1;
    return;
  }
  const log = pino(
    { name: 'ferryd', level: config.logLevel },
    pino.destination({ fd: 2, sync: true }),
  );
  const hostUuid = loadHostUuid(config.stateDir);
  // A missing QEMU binary does not stop the daemon: definitions can still be managed.
  const qemuVersion = await probeQemuVersion(config.qemuBinary).catch((err: unknown) => {
    log.error({ err: messageOf(err) }, 'QEMU is not usable; guests cannot start');
    return null;
  });
  const domains = new DomainManager({
    configDir: join(config.stateDir, 'qemu'),
    statusDir: config.runDir,
    runDir: config.runDir,
    logDir: join(config.stateDir, 'log'),
    idFile: join(config.stateDir, 'next-domain-id'),
    qemuBinary: config.qemuBinary,
    kvmDevice: config.kvmDevice,
    logger: log,
  });
  await domains.load();

  const server = new RpcServer<Methods, ConnectionState>(METHODS, {
    logger: log,
    createState: newConnectionState,
  });
  const journal = new MigrationJournal(join(config.runDir, 'jobs'));
  const migration = {
    source: {
      domains,
      hostUuid,
      log,
      journal,
      keepalive: config.keepalive,
      autoResume: config.postcopyAutoResume,
    },
    incoming: new IncomingMigrations({
      domains,
      hostUuid,
      log,
      journal,
      watchMs: config.migrationWatchMs,
      keepalive: config.keepalive,
    }),
  };
  // Domains with an interrupted job are reserved now; the decisions may need the peer.
  // Runs on in the background; each job's outcome is logged and journaled as it is decided.
  void recoverJobs({
    domains,
    journal,
    incoming: migration.incoming,
    log,
    keepalive: config.keepalive,
    autoResume: config.postcopyAutoResume,
  });
  server.implementAll(createHandlers(domains, { hostUuid, qemuVersion }, migration));
  domains.on('event', (ev) => server.broadcast('domain.event', ev, (conn) => conn.state.events));

  const listenOptions = {
    maxFrameBytes: config.maxFrameBytes,
    onError: (err: Error) => log.error({ err: messageOf(err) }, 'listener error'),
  };
  const handle = server.handle.bind(server);
  let listener;
  let tcpListener: TcpListener | undefined;
  try {
    listener = await listenUnix(config.socket, handle, listenOptions);
    try {
      if (config.tcp !== undefined)
        tcpListener = await listenTcp(config.tcp.address, config.tcp.port, handle, listenOptions);
    } catch (err) {
      await listener.close();
      throw err;
    }
  } catch (err) {
    log.error({ err: messageOf(err) }, 'cannot listen');
    process.stderr.write(`error: ${messageOf(err)}\n`);
    // Guests started before this daemon keep running; a later ferryd re-attaches to them.
    domains.detachAll();
    process.exitCode = 1;
    return;
  }
  const tcp =
    tcpListener === undefined
      ? undefined
      : formatHostPort(tcpListener.address.address, tcpListener.address.port);
  log.info(
    { socket: config.socket, tcp, hostUuid, qemu: qemuVersion, version: FERRY_VERSION },
    'ferryd ready',
  );

  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      log.info({ signal: sig }, 'shutting down; guests keep running');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await Promise.all([listener.close(), tcpListener?.close()]);
  server.close();
  domains.detachAll();
}
