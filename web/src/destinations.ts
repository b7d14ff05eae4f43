/**
 * Which known hosts the Migrate dialog offers as destinations. DOM-free.
 * @module
 */
import type { FleetHost } from './rpc/types.js';

/**
 * The known hosts a guest on `sourceId` can go to. URIs are as this ferryd sees them, and the
 * source ferryd dials the destination: from another host, a URI without a host part
 * (qemu:///system, a unix socket) would name the source itself, so those are left out there.
 */
export function destinationChoices(known: readonly FleetHost[], sourceId: string): FleetHost[] {
  return known.filter((h) => h.id !== sourceId && (sourceId === 'local' || !isHostlessUri(h.uri)));
}

/** qemu:///system, qemu+unix:///…: a URI that names whichever host reads it. */
export function isHostlessUri(uri: string): boolean {
  return /^[a-z0-9+]+:\/\/\//i.test(uri) || uri.startsWith('qemu+unix:');
}
