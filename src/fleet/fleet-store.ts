/**
 * The fleet's remote hosts, added by URI (ferry fleet add, the console's "Add host"), in
 * STATE_DIR/fleet-hosts.json, shared by
 * every user of this ferryd: `{ "hosts": [{ "id": "…", "uri": "qemu+tcp://…/system" }] }`.
 * Written atomically (temp file, fsync, rename); writes are serialized so two users adding at
 * once both stay. A file that does not parse is an error, never silently replaced.
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';

export interface FleetHostRecord {
  /** Stable short id, from the URI: the same URI always gets the same id. */
  readonly id: string;
  readonly uri: string;
}

export const FLEET_HOSTS_FILE = 'fleet-hosts.json';

/** A host's id: the first 10 hex digits of the URI's SHA-256 (never 'local'). */
export function hostIdOf(uri: string): string {
  return `h${createHash('sha256').update(uri).digest('hex').slice(0, 10)}`;
}

function parseHosts(text: string, file: string): FleetHostRecord[] {
  const bad = (why: string): FerryError =>
    new FerryError('SYSTEM_ERROR', `Malformed fleet hosts file '${file}': ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw bad((err as Error).message);
  }
  const hosts = (value as { hosts?: unknown } | null)?.hosts;
  if (!Array.isArray(hosts)) throw bad('expected {"hosts": [...]}');
  return hosts.map((h: unknown, i) => {
    const { id, uri } = (h ?? {}) as { id?: unknown; uri?: unknown };
    if (typeof id !== 'string' || typeof uri !== 'string' || id === '' || uri === '')
      throw bad(`host ${i + 1} needs an id and a uri`);
    return { id, uri };
  });
}

export class FleetStore {
  readonly file: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
  }

  /** Every known host, in the order added (none when the file does not exist yet). */
  async list(): Promise<FleetHostRecord[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new FerryError(
        'SYSTEM_ERROR',
        `Cannot read fleet hosts file '${this.file}': ${describeErrno(err)}`,
        { cause: err },
      );
    }
    return parseHosts(text, this.file);
  }

  /**
   * Runs `change` on the current list and writes what it returns (unless undefined), one
   * change at a time; resolves with `change`'s answer.
   */
  update<T>(
    change: (
      hosts: FleetHostRecord[],
    ) =>
      { hosts?: FleetHostRecord[]; answer: T } | Promise<{ hosts?: FleetHostRecord[]; answer: T }>,
  ): Promise<T> {
    const run = async (): Promise<T> => {
      const { hosts, answer } = await change(await this.list());
      if (hosts !== undefined) await this.#write(hosts);
      return answer;
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #write(hosts: readonly FleetHostRecord[]): Promise<void> {
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ hosts }, null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new FerryError(
        'SYSTEM_ERROR',
        `Cannot write fleet hosts file '${this.file}': ${describeErrno(err)}`,
        { cause: err },
      );
    }
  }
}
