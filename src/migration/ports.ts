/**
 * Incoming migration ports: the first free one in the destination's range (49152–49215 by
 * default, as libvirt), checked by binding it, with a clear error when all are taken. A port
 * handed out is held back from other callers for a few seconds, until its QEMU has bound it:
 * several migrations arriving at once (a fleet plan's moves) would otherwise each find the
 * same port free, and all but one QEMU fail with "Address already in use".
 * @module
 */
import { createServer } from 'node:net';
import { FerryError } from '../common/errors.js';
import { formatHostPort } from '../rpc/index.js';

export const DEFAULT_PORT_RANGE: readonly [number, number] = [49152, 49215];

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** How long a port handed out is skipped by other callers: ample for QEMU to bind it. */
export const PORT_HOLD_MS = 5000;

/** Ports handed out (or being probed) lately, with when they may be handed out again. */
const held = new Map<number, number>();

/** Finds a port QEMU can listen on; `taken` holds ports of this host's jobs under way. */
export async function allocatePort(
  host: string,
  range: readonly [number, number],
  taken: ReadonlySet<number>,
): Promise<number> {
  for (let port = range[0]; port <= range[1]; port++) {
    if (taken.has(port) || (held.get(port) ?? 0) > Date.now()) continue;
    // Claimed before the probe awaits, so a concurrent caller moves on to the next port.
    held.set(port, Date.now() + PORT_HOLD_MS);
    if (await isFree(host, port)) return port;
    held.delete(port);
  }
  throw new FerryError(
    'OPERATION_FAILED',
    `Unable to find an unused port in range ${range[0]}-${range[1]} for incoming migration`,
  );
}

/** Where the source reaches a destination QEMU listening at `listen` (see streamUris). */
export function advertisedHost(listen: string, destHost?: string): string {
  const wildcard = listen === '0.0.0.0' || listen === '::';
  return wildcard ? (destHost ?? '127.0.0.1') : listen;
}

/**
 * QEMU's stream URIs for `port` at `listen`: where it listens, and where the source sends the
 * stream (for a wildcard address, `destHost`, the name the source reached this host by, else
 * loopback; IPv6 in brackets).
 */
export function streamUris(
  listen: string,
  port: number,
  destHost?: string,
): { listen: string; advertised: string } {
  const advertised = advertisedHost(listen, destHost);
  return {
    listen: `tcp:${formatHostPort(listen, port)}`,
    advertised: `tcp:${formatHostPort(advertised, port)}`,
  };
}
