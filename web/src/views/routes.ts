/**
 * Hash routes: `#/` the hosts, `#/fleet` the fleet, `#/host/HOSTID/guest/NAME` a guest.
 * @module
 */

export type Route =
  { page: 'hosts' } | { page: 'fleet' } | { page: 'guest'; hostId: string; name: string };

export function guestHref(hostId: string, name: string): string {
  return `#/host/${encodeURIComponent(hostId)}/guest/${encodeURIComponent(name)}`;
}

/** The route a location hash names; anything unknown is the hosts page. */
export function parseRoute(hash: string): Route {
  if (hash === '#/fleet') return { page: 'fleet' };
  const m = /^#\/host\/([^/]+)\/guest\/([^/]+)$/.exec(hash);
  if (m?.[1] !== undefined && m[2] !== undefined) {
    try {
      return { page: 'guest', hostId: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) };
    } catch {
      return { page: 'hosts' };
    }
  }
  return { page: 'hosts' };
}
