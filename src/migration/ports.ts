/**
 * Incoming migration ports: the first free one in the destination's range (49152–49215 by
 * default, as libvirt), checked by binding it, with a clear error when all are taken.
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

/** Finds a port QEMU can listen on; `taken` holds ports handed out but not yet bound by QEMU. */
export async function allocatePort(
  host: string,
  range: readonly [number, number],
  taken: ReadonlySet<number>,
): Promise<number> {
  for (let port = range[0]; port <= range[1]; port++) {
    if (!taken.has(port) && (await isFree(host, port))) return port;
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
