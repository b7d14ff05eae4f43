/**
 * The hosts the console knows (fleet.hosts) and, per host, its guests with their
 * domain.info details. Guest lists refresh on `domain.event` (events.subscribe on each
 * connection), never by polling.
 * @module
 */
import { signal, type Signal } from '@preact/signals';
import { errorMessage } from '../rpc/session.js';
import { connectionTo, dropConnection, setHostLabel } from '../rpc/connections.js';
import type { FleetHost, DomainEvent, DomainInfo } from '../rpc/types.js';

export const hosts = signal<readonly FleetHost[] | undefined>(undefined);
export const hostsError = signal<string | undefined>(undefined);

/** How a host is named on the page: its hostname, or its URI when unknown. */
export function hostName(host: FleetHost): string {
  return host.hostname ?? host.uri;
}

export function findHost(hostId: string): FleetHost | undefined {
  return hosts.value?.find((h) => h.id === hostId);
}

function remember(list: readonly FleetHost[]): void {
  for (const h of list) setHostLabel(h.id, hostName(h));
  hosts.value = list;
}

/** (Re)reads the host list from this ferryd. */
export async function loadHosts(): Promise<void> {
  try {
    const { hosts: list } = await connectionTo('local').call('fleet.hosts', {});
    remember(list);
    hostsError.value = undefined;
  } catch (err) {
    hostsError.value = errorMessage(err);
  }
}

/** Adds a host by URI; resolves with it, or rejects with ferryd's message (nothing stored). */
export async function addHost(uri: string): Promise<FleetHost> {
  const { host } = await connectionTo('local').call('fleet.addHost', { uri });
  const list = hosts.value ?? [];
  remember(list.some((h) => h.id === host.id) ? list : [...list, host]);
  return host;
}

export async function removeHost(hostId: string): Promise<void> {
  await connectionTo('local').call('fleet.removeHost', { id: hostId });
  dropConnection(hostId);
  guestLists.delete(hostId);
  remember((hosts.value ?? []).filter((h) => h.id !== hostId));
}

export interface GuestList {
  guests: Signal<readonly DomainInfo[] | undefined>;
  error: Signal<string | undefined>;
}

const guestLists = new Map<string, GuestList>();
const subscribed = new WeakSet<object>();

/**
 * Calls `listener` with each domain.event of `hostId`, subscribing the connection (again
 * after each reconnect) and calling `onOpen` whenever it (re)opens.
 */
export function watchHost(
  hostId: string,
  onOpen: () => void,
  listener: (event: DomainEvent) => void,
): () => void {
  const conn = connectionTo(hostId);
  const offEvent = conn.on('domain.event', listener);
  if (!subscribed.has(conn)) {
    subscribed.add(conn);
    conn.onOpen(() => void conn.call('events.subscribe', {}).catch(() => undefined));
  }
  const offOpen = conn.onOpen(onOpen);
  return () => {
    offEvent();
    offOpen();
  };
}

/** Reads every guest of a host with its details. */
async function readGuests(hostId: string): Promise<DomainInfo[]> {
  const conn = connectionTo(hostId);
  const { domains } = await conn.call('domain.list', { active: true, inactive: true });
  const infos = await Promise.all(
    domains.map((d) => conn.call('domain.info', { domain: d.uuid }).catch(() => undefined)),
  );
  return infos
    .filter((i): i is DomainInfo => i !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The guests of `hostId`, loaded on first use and kept fresh by its events. */
export function guestsOf(hostId: string): GuestList {
  const existing = guestLists.get(hostId);
  if (existing !== undefined) return existing;
  const list: GuestList = { guests: signal(undefined), error: signal(undefined) };
  guestLists.set(hostId, list);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = (): void => {
    readGuests(hostId).then(
      (guests) => {
        list.guests.value = guests;
        list.error.value = undefined;
      },
      (err: unknown) => (list.error.value = errorMessage(err)),
    );
  };
  // A migration sends several events in a row: read once they settle.
  const soon = (): void => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  };
  watchHost(hostId, refresh, soon);
  // The first connection attempt failing leaves no open to wait for: say why at once.
  connectionTo(hostId)
    .call('host.info', {})
    .catch((err: unknown) => (list.error.value = errorMessage(err)));
  return list;
}
