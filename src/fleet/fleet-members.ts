/**
 * The fleet's members as the console and fleet plans see them: this ferryd ('local') and the
 * remote ferryds added by
 * URI, each probed with host.info over a peer connection that is kept open for the next probe
 * (and opened again when it has closed). A probe gives up after 5 s: a host that does not
 * answer in that time is shown unreachable rather than holding the page.
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import type { CallOptions } from '../rpc/index.js';
import type { FleetHost } from '../rpc/schema/fleet.js';
import { hostIdOf, type FleetHostRecord, type FleetStore } from './fleet-store.js';

/** What the console needs of a connection to a remote ferryd (an RpcClient fits). */
export interface HostClient {
  readonly closed: boolean;
  callRaw(method: string, params: unknown, options?: CallOptions): Promise<unknown>;
  notify(method: string, params?: unknown): void;
  onAnyNotification(cb: (method: string, params: unknown) => void): () => void;
  onClose(cb: (reason: FerryError) => void): () => void;
  close(): void;
}

/** Connects (and logs in) to the ferryd at a URI; fails with a readable FerryError. */
export type ConnectHost = (uri: string) => Promise<HostClient>;

export const LOCAL_HOST_ID = 'local';
export const LOCAL_URI = 'qemu:///system';
export const PROBE_TIMEOUT_MS = 5000;

export interface FleetMembersOptions {
  store: FleetStore;
  connect: ConnectHost;
  /** This host's name, for the 'local' entry. */
  localHostname: string;
  probeTimeoutMs?: number;
}

/** See the module doc. */
export class FleetMembers {
  readonly #store: FleetStore;
  readonly #connect: ConnectHost;
  readonly #localHostname: string;
  readonly #probeTimeoutMs: number;
  /** Probe connections by host id (a pending connect is shared by concurrent probes). */
  readonly #clients = new Map<string, Promise<HostClient>>();

  constructor(options: FleetMembersOptions) {
    this.#store = options.store;
    this.#connect = options.connect;
    this.#localHostname = options.localHostname;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  }

  /** This host first, then every known remote host, probed in parallel. */
  async list(): Promise<FleetHost[]> {
    const remote = await Promise.all((await this.#store.list()).map((h) => this.#probe(h)));
    return [this.#local(), ...remote];
  }

  /**
   * Adds a host by URI: a bad URI is INVALID_ARG, an unreachable host CONNECT_FAILED (or
   * AUTH_FAILED), and neither stores anything; a URI already known returns that host.
   */
  async add(uri: string): Promise<FleetHost> {
    parseConnectionUri(uri);
    const known = (await this.#store.list()).find((h) => h.uri === uri);
    if (known !== undefined) return this.#probe(known);
    const host: FleetHostRecord = { id: hostIdOf(uri), uri };
    const probed = await this.#probe(host);
    if (!probed.reachable) {
      this.#forget(host.id);
      throw new FerryError('CONNECT_FAILED', probed.error ?? `Cannot reach ${uri}`);
    }
    return this.#store.update((hosts) => {
      // Another user may have added it meanwhile.
      if (hosts.some((h) => h.uri === uri)) return { answer: probed };
      return { hosts: [...hosts, host], answer: probed };
    });
  }

  /** Removes a host by id; an unknown id is an error naming it. */
  async remove(id: string): Promise<{ id: string }> {
    if (id === LOCAL_HOST_ID)
      throw new FerryError('OPERATION_INVALID', 'The local host cannot be removed from the fleet');
    await this.#store.update((hosts) => {
      if (!hosts.some((h) => h.id === id))
        throw new FerryError('INVALID_ARG', `No fleet host with id '${id}'`);
      return { hosts: hosts.filter((h) => h.id !== id), answer: undefined };
    });
    this.#forget(id);
    return { id };
  }

  /** Every known remote host as stored (no probe). */
  records(): Promise<FleetHostRecord[]> {
    return this.#store.list();
  }

  /** The known remote host with this id, or undefined. */
  async find(id: string): Promise<FleetHostRecord | undefined> {
    return (await this.#store.list()).find((h) => h.id === id);
  }

  /**
   * The shared connection to a known remote host (opened again when it has closed), for short
   * calls such as host.capacity; an unknown id is INVALID_ARG. Long calls whose notifications
   * matter (migration.start) take a connection of their own: {@link connect}.
   */
  async client(id: string): Promise<HostClient> {
    const host = await this.find(id);
    if (host === undefined) throw new FerryError('INVALID_ARG', `No fleet host with id '${id}'`);
    return this.#client(host);
  }

  /** A new connection of its own to a known host (the relay's, for one browser socket). */
  connect(host: FleetHostRecord): Promise<HostClient> {
    return this.#connect(host.uri);
  }

  /** Closes the probe connections (ferryd is stopping). */
  close(): void {
    for (const id of [...this.#clients.keys()]) this.#forget(id);
  }

  #local(): FleetHost {
    return { id: LOCAL_HOST_ID, uri: LOCAL_URI, hostname: this.#localHostname, reachable: true };
  }

  async #probe(host: FleetHostRecord): Promise<FleetHost> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(
          new FerryError(
            'OPERATION_TIMEOUT',
            `No answer from ${host.uri} within ${this.#probeTimeoutMs / 1000} s`,
          ),
        );
      }, this.#probeTimeoutMs);
    });
    try {
      const info = await Promise.race([this.#hostInfo(host), deadline]);
      return { id: host.id, uri: host.uri, hostname: info.hostname, reachable: true };
    } catch (err) {
      this.#forget(host.id);
      return {
        id: host.id,
        uri: host.uri,
        hostname: null,
        reachable: false,
        error: messageOf(err),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async #hostInfo(host: FleetHostRecord): Promise<{ hostname: string }> {
    const client = await this.#client(host);
    const info = (await client.callRaw('host.info', {}, { timeoutMs: this.#probeTimeoutMs })) as {
      hostname?: unknown;
    };
    if (typeof info.hostname !== 'string')
      throw new FerryError(
        'OPERATION_FAILED',
        `${host.uri} answered host.info without a host name`,
      );
    return { hostname: info.hostname };
  }

  #client(host: FleetHostRecord): Promise<HostClient> {
    const cached = this.#clients.get(host.id);
    if (cached !== undefined) {
      // A closed connection is opened again on demand.
      const usable = cached.then((c) => (c.closed ? undefined : c)).catch(() => undefined);
      return usable.then((c) => c ?? this.#open(host));
    }
    return this.#open(host);
  }

  #open(host: FleetHostRecord): Promise<HostClient> {
    const pending = this.#connect(host.uri);
    this.#clients.set(host.id, pending);
    pending.catch(() => {
      if (this.#clients.get(host.id) === pending) this.#clients.delete(host.id);
    });
    return pending;
  }

  #forget(id: string): void {
    const pending = this.#clients.get(id);
    this.#clients.delete(id);
    // A connect still under way is closed when it lands.
    void pending?.then((c) => c.close()).catch(() => undefined);
  }
}
