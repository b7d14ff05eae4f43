/**
 * netfs pools: parsed and stored, but not usable yet. The NFS backend (QEMU's libnfs driver
 * against a userspace NFS server) plugs in here as a PoolBackend of its own.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { PoolBackend } from './backend.js';

function notYet(): FerryError {
  return new FerryError(
    'NO_SUPPORT',
    'this function is not supported by the connection driver: netfs pools are not implemented yet',
  );
}

/** A backend whose every operation says netfs is not implemented yet. */
export function netfsBackend(): PoolBackend {
  const refuse = (): Promise<never> => Promise.reject(notYet());
  return {
    build: refuse,
    start: refuse,
    stop: () => Promise.resolve(),
    refresh: refuse,
    info: refuse,
    list: refuse,
    volume: refuse,
    createVolume: refuse,
    deleteVolume: refuse,
    source: () => {
      throw notYet();
    },
  };
}
