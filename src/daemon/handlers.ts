/**
 * The RPC methods of ferryd, each a thin call into the host's DomainManager.
 * @module
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConnectionLogin, type LoginOptions } from '../auth/index.js';
import { FERRY_VERSION } from '../common/version.js';
import { FerryError } from '../common/errors.js';
import type { ActiveJob, DomainManager, DomainRecord } from '../host/index.js';
import {
  bandwidthBytes,
  migrateOut,
  resumeMigrationOut,
  UNLIMITED_BANDWIDTH_MIBS,
  type IncomingMigrations,
  type SourceConnection,
  type SourceOptions,
} from '../migration/index.js';
import type { JobStats } from '../rpc/schema/migration.js';
import type { CallContext, ConnectionInfo, Handlers, LocalEndpoint } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { FleetMethodName } from '../rpc/schema/fleet.js';
import type { FleetPlanMethodName } from '../rpc/schema/fleet-plan.js';
import type { CpuMethodName } from '../rpc/schema/cpu-methods.js';
import type { LinkMethodName } from '../rpc/schema/link.js';
import type { PreflightMethodName } from '../rpc/schema/preflight.js';
import type { StorageMethodName } from '../rpc/schema/storage.js';
import type { DirtyRateMethodName } from '../rpc/schema/dirty-rate.js';

/** Per-connection state ferryd keeps. */
export interface ConnectionState {
  /** Whether the client asked for `domain.event` notifications. */
  events: boolean;
  /** How the client reached this ferryd (undefined for a transport with no named endpoint). */
  readonly transport: LocalEndpoint['kind'] | undefined;
  /**
   * Over tcp or tls, the address of this host the client connected to (`127.0.0.2`; IPv4
   * never in its `::ffff:` form): one the client can reach, so e.g. a migration destination
   * can listen there for the source's stream. Undefined over unix.
   */
  readonly localAddress: string | undefined;
  /** The connection's login: who it is, and whether it may call anything but auth.* yet. */
  readonly login: ConnectionLogin;
}

/** Which listeners make clients log in (auth_tcp, auth_tls = "sasl"), and against what. */
export interface LoginPolicy extends LoginOptions {
  readonly tcp: boolean;
  readonly tls: boolean;
}

/** No listener asks for a login (the unix socket never does: it is root-only). */
const NO_LOGIN: LoginPolicy = {
  tcp: false,
  tls: false,
  accountsFile: '/dev/null',
  log: { info: () => undefined, warn: () => undefined, error: () => undefined },
};

/**
 * The state of a new connection (RpcServer's createState). A web console WebSocket always
 * needs a login, which its upgrade already did (the session's user, `info.user`); the user a
 * transport claims is taken from the console's WebSocket only, never over tcp or tls.
 */
export function newConnectionState(
  info: Pick<ConnectionInfo, 'local' | 'peer'> & { readonly user?: string | undefined },
  policy: LoginPolicy = NO_LOGIN,
): ConnectionState {
  const { local } = info;
  const network = local?.kind === 'tcp' || local?.kind === 'tls';
  const viaConsole = local?.kind === 'websocket';
  const required =
    (local?.kind === 'tcp' && policy.tcp) || (local?.kind === 'tls' && policy.tls) || viaConsole;
  return {
    events: false,
    transport: local?.kind,
    localAddress: network ? local.address : undefined,
    login: new ConnectionLogin(info.peer, required, policy, viaConsole ? info.user : undefined),
  };
}

export interface HostIdentity {
  hostUuid: string;
  qemuVersion: string | null;
}

/** Reads at most `maxBytes` from the end of a file. */
function tail(path: string, maxBytes: number): string {
  const buf = readFileSync(path);
  return buf.subarray(Math.max(0, buf.length - maxBytes)).toString('utf8');
}

export interface MigrationServices {
  source: SourceOptions;
  incoming: IncomingMigrations;
}

const NO_JOB: JobStats = { type: 'None', status: 'none' };

function requireJob(rec: DomainRecord): ActiveJob {
  if (rec.job === undefined) {
    throw new FerryError(
      'OPERATION_INVALID',
      'Requested operation is not valid: no job is active on the domain',
    );
  }
  return rec.job;
}

/** The connection a peer call came on, as the destination side of a job follows it. */
function sourceConnection(ctx: CallContext<ConnectionState>): SourceConnection {
  return {
    onClose: (cb) => {
      ctx.onClose(cb);
    },
    startKeepalive: (options) => {
      ctx.connection.startKeepalive(options);
    },
  };
}

export function createHandlers(
  domains: DomainManager,
  host: HostIdentity,
  migration: MigrationServices,
): Omit<
  Handlers<Methods, ConnectionState>,
  | StorageMethodName
  | DirtyRateMethodName
  | CpuMethodName
  | PreflightMethodName
  | LinkMethodName
  | FleetMethodName
  | FleetPlanMethodName
> {
  return {
    'auth.list': (_p, ctx) => ({ mechanisms: ctx.connection.state.login.mechanisms() }),
    'auth.start': async (p, ctx) => ({
      message: await ctx.connection.state.login.start(p.mechanism, p.message),
    }),
    'auth.step': (p, ctx) => ctx.connection.state.login.step(p.message),
    'host.info': () => ({
      hostname: hostname(),
      hostUuid: host.hostUuid,
      ferryVersion: FERRY_VERSION,
      hypervisor: host.qemuVersion === null ? null : { name: 'QEMU', version: host.qemuVersion },
    }),
    'domain.list': (p) => ({ domains: domains.list(p) }),
    'domain.info': (p) => domains.info(p.domain),
    'domain.getXml': (p) => ({ xml: domains.xml(p.domain, p.inactive) }),
    'domain.define': (p) => {
      const { def, warnings } = domains.define(p.xml);
      return { name: def.name, uuid: def.uuid, warnings };
    },
    'domain.undefine': (p) => ({ name: domains.undefine(p.domain) }),
    'domain.create': async (p) => {
      const { rec, warnings } = await domains.create(p.xml, p.paused);
      return { name: rec.def.name, id: rec.id ?? -1, warnings };
    },
    'domain.start': async (p) => {
      const rec = await domains.start(p.domain, p.paused);
      return { name: rec.def.name, id: rec.id ?? -1 };
    },
    'domain.shutdown': async (p) => {
      const rec = await domains.shutdown(p.domain, p.waitSeconds);
      return { name: rec.def.name, state: rec.state };
    },
    'domain.destroy': async (p) => ({ name: await domains.destroy(p.domain) }),
    'domain.suspend': async (p) => ({ name: await domains.suspend(p.domain) }),
    'domain.resume': async (p) => ({ name: await domains.resume(p.domain) }),
    'domain.reboot': async (p) => ({ name: await domains.reboot(p.domain) }),
    'domain.injectNmi': async (p) => ({ name: await domains.injectNmi(p.domain) }),
    'domain.consoleLog': (p) => {
      const rec = domains.get(p.domain);
      if (rec.consoleLog === undefined) return { text: '', path: null };
      try {
        return { text: tail(rec.consoleLog, p.maxBytes), path: rec.consoleLog };
      } catch {
        return { text: '', path: rec.consoleLog };
      }
    },
    'migration.start': (p, ctx) => {
      // A CLI that went away does not stop the job; its progress is simply dropped.
      const onProgress = (stats: JobStats): void => {
        ctx.notify('job.progress', { ...stats, name: p.domain });
      };
      return p.flags.postcopyResume
        ? resumeMigrationOut(migration.source, p.domain, p.destUri, p.flags, onProgress)
        : migrateOut(migration.source, p.domain, p.destUri, p.flags, onProgress);
    },
    'migration.prepare': (p, ctx) =>
      migration.incoming.prepare(
        // The stream comes to the address the source reached this host on, as libvirt uses
        // the destination's host name; --listen-address overrides it.
        // Over ssh the connection has no address: listen on all, advertise the URI's host.
        {
          ...p,
          listenAddress:
            p.listenAddress ??
            ctx.connection.state.localAddress ??
            (p.destHost === undefined ? undefined : '0.0.0.0'),
        },
        sourceConnection(ctx),
      ),
    'migration.finish': (p) => migration.incoming.finish(p),
    'migration.resume': (p, ctx) =>
      migration.incoming.resume(
        { jobId: p.jobId, listenAddress: p.listenAddress ?? ctx.connection.state.localAddress },
        sourceConnection(ctx),
      ),
    'migration.status': (p) => migration.incoming.status(p.jobId),
    'job.info': async (p) => {
      const rec = domains.get(p.domain);
      if (p.completed) return rec.lastJob ?? NO_JOB;
      return rec.job === undefined ? NO_JOB : await rec.job.stats();
    },
    'job.abort': async (p) => {
      const rec = domains.get(p.domain);
      const job = requireJob(rec);
      if (!p.postcopy) await job.abort();
      else if (job.pausePostcopy === undefined)
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: the job is not a migration that can be paused',
        );
      else await job.pausePostcopy();
      return { name: rec.def.name };
    },
    'job.postcopy': async (p) => {
      const rec = domains.get(p.domain);
      await requireJob(rec).startPostcopy();
      return { name: rec.def.name };
    },
    'migration.setMaxDowntime': async (p) => {
      const rec = domains.get(p.domain);
      rec.tuning.downtimeMs = p.downtimeMs;
      await rec.proc?.qmp.execute('migrate-set-parameters', { 'downtime-limit': p.downtimeMs });
      return { downtimeMs: p.downtimeMs };
    },
    'migration.getMaxDowntime': async (p) => {
      const rec = domains.get(p.domain);
      if (rec.proc === undefined) return { downtimeMs: rec.tuning.downtimeMs };
      // While QEMU runs, its own parameter is the truth (as libvirt reads it).
      const params = await rec.proc.qmp.execute<{ 'downtime-limit': number }>(
        'query-migrate-parameters',
      );
      return { downtimeMs: params['downtime-limit'] };
    },
    'migration.setSpeed': async (p) => {
      const rec = domains.get(p.domain);
      const mibs = p.bandwidthMiBs === 0 ? UNLIMITED_BANDWIDTH_MIBS : p.bandwidthMiBs;
      rec.tuning.bandwidthMiBs = mibs;
      await rec.proc?.qmp.execute('migrate-set-parameters', {
        'max-bandwidth': bandwidthBytes(mibs),
      });
      return { bandwidthMiBs: mibs };
    },
    'migration.getSpeed': (p) => ({ bandwidthMiBs: domains.get(p.domain).tuning.bandwidthMiBs }),
    'events.subscribe': (_p, ctx) => {
      ctx.connection.state.events = true;
      return { subscribed: true as const };
    },
  };
}
