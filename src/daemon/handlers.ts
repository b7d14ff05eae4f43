/**
 * The RPC methods of ferryd, each a thin call into the host's DomainManager.
 * @module
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { FERRY_VERSION } from '../common/version.js';
import type { DomainManager } from '../host/index.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';

/** Per-connection state ferryd keeps. */
export interface ConnectionState {
  /** Whether the client asked for `domain.event` notifications. */
  events: boolean;
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

export function createHandlers(
  domains: DomainManager,
  host: HostIdentity,
): Handlers<Methods, ConnectionState> {
  return {
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
    'domain.consoleLog': (p) => {
      const rec = domains.get(p.domain);
      if (rec.consoleLog === undefined) return { text: '', path: null };
      try {
        return { text: tail(rec.consoleLog, p.maxBytes), path: rec.consoleLog };
      } catch {
        return { text: '', path: rec.consoleLog };
      }
    },
    'events.subscribe': (_p, ctx) => {
      ctx.connection.state.events = true;
      return { subscribed: true as const };
    },
  };
}
