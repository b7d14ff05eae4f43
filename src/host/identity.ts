/**
 * The host UUID: generated once, kept in the state directory, never changed.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { writeFileAtomic } from '../domain/store.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Reads `STATE/host-uuid`, creating it on first start. */
export function loadHostUuid(stateDir: string): string {
  const file = join(stateDir, 'host-uuid');
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    const uuid = randomUUID();
    writeFileAtomic(file, `${uuid}\n`, 0o644);
    return uuid;
  }
  if (!UUID_RE.test(text))
    throw new FerryError(
      'SYSTEM_ERROR',
      `Host UUID file '${file}' is corrupt: '${text.slice(0, 40)}'`,
    );
  return text;
}
