/**
 * ferryd: one per host, in the foreground, logging JSON lines to stderr. The composition
 * root: configuration, the host's domains, the RPC server on the local unix socket (and on
 * TCP and TLS when listen_tcp / listen_tls = 1, with logins as auth_tcp / auth_tls say).
 * Nothing imports this folder.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { accountsFileProblem } from '../auth/index.js';
import { startConsole } from '../console/index.js';
import {
  FLEET_HOSTS_FILE,
  FleetMembers,
  FleetStore,
  PlanStore,
  RETURNS_FILE,
  ReturnRecords,
} from '../fleet/index.js';
import { hostCapacity } from '../fleet/capacity.js';
import { messageOf } from '../common/errors.js';
import { FERRY_VERSION } from '../common/version.js';
import { DomainManager, loadHostUuid } from '../host/index.js';
import { IncomingMigrations, MigrationJournal, recoverJobs } from '../migration/index.js';
import { connectPeer } from '../migration/peer.js';
import { acceleratorFor, machineFor, probeQemuVersion } from '../qemu/index.js';
import { qemuHostFacts } from '../qemu/probe.js';
import { checkMachineTypeForStart, type MachineTypePolicy } from '../preflight/index.js';
import { createPreflightHandlers } from './preflight-handlers.js';
import { RpcServer } from '../rpc/index.js';
import { METHODS, type Methods } from '../rpc/methods.js';
import { loadConfig, type ConfigFlags } from './config.js';
import {
  createHandlers,
  newConnectionState,
  type ConnectionState,
  type LoginPolicy,
} from './handlers.js';
import { closeListeners, openListeners } from './listeners.js';
import { createLinkHandlers } from './link-handlers.js';
import { createStorageHandlers } from './storage-handlers.js';
import { createDirtyRateHandlers } from './dirty-rate-handlers.js';
import { createCpuHandlers } from './cpu-handlers.js';
import { createFleetHandlers } from './fleet-handlers.js';
import { createFleetPlanHandlers } from './fleet-plan-handlers.js';
import { createFleetRunHandlers } from './fleet-run-handlers.js';
import { createFleetCpuHandlers } from './fleet-cpu-handlers.js';
import { HostCpus } from '../cpu/host-cpus.js';
import { PoolManager, VolumeService } from '../storage/index.js';

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
  const pools = new PoolManager({
    configDir: join(config.stateDir, 'storage'),
    runDir: join(config.runDir, 'storage'),
    logDir: join(config.stateDir, 'log'),
    policy: config.policy,
    logger: log,
  });
  // Pools active before a restart are taken up again (export hosts re-attached), then the
  // autostart ones started; a pool that fails is logged and left inactive.
  await pools.load();
  const volumes = new VolumeService(pools);
  let cpus: HostCpus;
  try {
    cpus = new HostCpus({
      qemuBinary: config.qemuBinary,
      kvmDevice: config.kvmDevice,
      cacheDir: join(config.stateDir, 'cache'),
      hostUuid,
      limit: config.cpuLimit,
      virttype: config.cpuVirtType,
    });
  } catch (err) {
    // A bad cpu_limit is a configuration error: refuse to start rather than offer too much.
    process.stderr.write(`error: ${messageOf(err)}\n`);
    pools.detachAll();
    process.exitCode = 1;
    return;
  }
  const cacheDir = join(config.stateDir, 'cache');
  const machineTypes: MachineTypePolicy = {
    globs: config.machineTypes,
    origin: config.configFile ?? 'the defaults (no config file)',
  };
  const domains = new DomainManager({
    configDir: join(config.stateDir, 'qemu'),
    statusDir: config.runDir,
    runDir: config.runDir,
    logDir: join(config.stateDir, 'log'),
    idFile: join(config.stateDir, 'next-domain-id'),
    qemuBinary: config.qemuBinary,
    kvmDevice: config.kvmDevice,
    logger: log,
    policy: config.policy,
    volumes,
    // Only a host with cpu_limit refuses at start; otherwise QEMU says what it cannot run.
    checkCpu: config.cpuLimit === undefined ? undefined : (def) => cpus.checkStart(def),
    checkMachineType: async (def) => {
      if (machineTypes.globs === undefined) return;
      const facts = await qemuHostFacts(config.qemuBinary, acceleratorFor(def), cacheDir);
      checkMachineTypeForStart(facts, machineFor(def), machineTypes);
    },
  });
  await domains.load();

  const loginPolicy: LoginPolicy = {
    tcp: config.tcp?.auth === 'sasl',
    tls: config.tls?.auth === 'sasl',
    accountsFile: config.accountsFile,
    log,
  };
  if (loginPolicy.tcp || loginPolicy.tls || config.console !== undefined) {
    const problem = await accountsFileProblem(config.accountsFile);
    if (problem !== undefined) log.warn({ accountsFile: config.accountsFile }, problem);
  }
  const server = new RpcServer<Methods, ConnectionState>(METHODS, {
    logger: log,
    createState: (info) => newConnectionState(info, loginPolicy),
    authorize: (method, conn) => {
      conn.state.login.check(method);
    },
  });
  const journal = new MigrationJournal(join(config.runDir, 'jobs'));
  const preflight = {
    domains,
    hostUuid,
    cpu: cpus.service,
    qemuBinary: config.qemuBinary,
    qemuVersion,
    cacheDir,
    machineTypes,
    log,
    keepalive: config.keepalive,
    hostMemoryBytes:
      config.hostMemoryMiB === undefined ? undefined : config.hostMemoryMiB * 1024 * 1024,
  };
  const migration = {
    source: {
      domains,
      hostUuid,
      log,
      journal,
      keepalive: config.keepalive,
      tlsDir: config.migrationTlsDir,
      autoResume: config.postcopyAutoResume,
      cpu: cpus.service,
      preflight,
    },
    incoming: new IncomingMigrations({
      domains,
      hostUuid,
      log,
      journal,
      watchMs: config.migrationWatchMs,
      tlsDir: config.migrationTlsDir,
      keepalive: config.keepalive,
      runDir: config.runDir,
      cpu: cpus.service,
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
  // The fleet's remote hosts (the console's too), reached as a migration reaches its
  // destination: ferryd's own credentials (/etc/ferry/auth.conf as root).
  const fleet = new FleetMembers({
    store: new FleetStore(join(config.stateDir, FLEET_HOSTS_FILE)),
    connect: (uri) =>
      connectPeer(uri, {
        role: 'host',
        keepalive: config.keepalive,
        onWarning: (text) => log.warn({ uri }, text),
      }),
    localHostname: hostname(),
  });
  // Plans fleet.plan made, for fleet.run.
  const plans = new PlanStore();
  // Where guests evacuated with --return came from, for evacuate --undo.
  const returns = new ReturnRecords(join(config.stateDir, RETURNS_FILE));
  server.implementAll({
    ...createHandlers(domains, { hostUuid, qemuVersion }, migration),
    ...createStorageHandlers(pools, volumes),
    ...createDirtyRateHandlers(domains),
    ...createCpuHandlers(cpus),
    ...createPreflightHandlers(preflight),
    ...createLinkHandlers(),
    ...createFleetHandlers(fleet),
    ...createFleetPlanHandlers({
      plans,
      fleet,
      returns,
      hostUuid,
      capacity: () =>
        hostCapacity({
          hostUuid,
          hostMemoryMiB: config.hostMemoryMiB,
          guests: () => domains.capacityView(),
          cpuModel: async () => (await cpus.hostModel()).model,
        }),
    }),
    // Moves off this host run in process; those off another host are asked of its ferryd.
    ...createFleetRunHandlers({
      plans,
      returns,
      connect: (host) => fleet.connect(host),
      local: migration.source,
    }),
    ...createFleetCpuHandlers({ fleet, cpus, domains, hostUuid }),
  });
  domains.on('event', (ev) => server.broadcast('domain.event', ev, (conn) => conn.state.events));

  let listeners;
  try {
    const web = config.console;
    listeners = await openListeners(
      config,
      server.handle.bind(server),
      log,
      web === undefined
        ? undefined
        : () =>
            startConsole({
              address: web.address,
              port: web.port,
              tls: web.tls,
              webDir: web.webDir,
              accountsFile: config.accountsFile,
              hostname: hostname(),
              maxFrameBytes: config.maxFrameBytes,
              handle: server.handle.bind(server),
              hosts: fleet,
              log,
            }),
    );
  } catch (err) {
    log.error({ err: messageOf(err) }, 'cannot listen');
    process.stderr.write(`error: ${messageOf(err)}\n`);
    // Guests started before this daemon keep running; a later ferryd re-attaches to them.
    domains.detachAll();
    pools.detachAll();
    process.exitCode = 1;
    return;
  }
  log.info(
    {
      socket: config.socket,
      tcp: listeners.tcpAddress,
      tls: listeners.tlsAddress,
      console: listeners.consoleAddress,
      consoleUrl: listeners.consoleUrl,
      hostUuid,
      qemu: qemuVersion,
      version: FERRY_VERSION,
    },
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
  await closeListeners(listeners);
  fleet.close();
  server.close();
  domains.detachAll();
  pools.detachAll();
}
