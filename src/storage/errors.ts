/**
 * The storage errors callers tell apart, in virsh's words.
 * @module
 */
import { FerryError } from '../common/errors.js';

/** No pool of that name (data.pool names it, so the CLI can say "failed to get pool 'x'"). */
export function noPool(name: string): FerryError {
  return new FerryError(
    'NO_STORAGE_POOL',
    `Storage pool not found: no storage pool with matching name '${name}'`,
    { data: { pool: name } },
  );
}

/** No volume of that name, key or path (data.vol names it; data.pool when one was given). */
export function noVolume(vol: string, pool?: string, by: 'name' | 'path' = 'path'): FerryError {
  return new FerryError(
    'NO_STORAGE_VOL',
    `Storage volume not found: no storage vol with matching ${by} '${vol}'`,
    { data: pool === undefined ? { vol } : { vol, pool } },
  );
}

export function poolNotActive(name: string): FerryError {
  return new FerryError(
    'OPERATION_INVALID',
    `Requested operation is not valid: storage pool '${name}' is not active`,
  );
}

export function poolActive(name: string, how: 'already' | 'still'): FerryError {
  return new FerryError(
    'OPERATION_INVALID',
    `Requested operation is not valid: storage pool '${name}' is ${how} active`,
  );
}
