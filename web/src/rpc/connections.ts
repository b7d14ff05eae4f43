/**
 * The console's connections, one per host id, opened when a page first needs that host.
 * @module
 */
import { signal } from '@preact/signals';
import { HostConnection } from './connection.js';

const connections = new Map<string, HostConnection>();
const labels = new Map<string, string>();
/** Every open connection, for the "connection lost" banner. */
export const allConnections = signal<readonly HostConnection[]>([]);

/** Remembers how to name a host in messages (its hostname, or its URI). */
export function setHostLabel(hostId: string, label: string): void {
  labels.set(hostId, label);
}

export function hostLabel(hostId: string): string {
  return labels.get(hostId) ?? (hostId === 'local' ? 'this host' : hostId);
}

/** The connection to `hostId` ('local' is this ferryd), opened on first use. */
export function connectionTo(hostId: string): HostConnection {
  let c = connections.get(hostId);
  if (c === undefined) {
    c = new HostConnection(hostId, () => hostLabel(hostId));
    connections.set(hostId, c);
    allConnections.value = [...connections.values()];
  }
  return c;
}

/** Closes and forgets a host's connection (the host was removed). */
export function dropConnection(hostId: string): void {
  connections.get(hostId)?.close();
  connections.delete(hostId);
  allConnections.value = [...connections.values()];
}
