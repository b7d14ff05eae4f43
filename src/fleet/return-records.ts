/**
 * Where evacuated guests came from (`ferry evacuate HOST --return`), so `evacuate --undo HOST`
 * can bring them back after the maintenance: STATE_DIR/fleet-returns.json,
 * `{ "returns": [{ "host": "h1", "guest": "vm1", "uuid": "…", "to": "h2" }] }`. Written
 * atomically (temp file, fsync, rename), one change at a time. A file that does not parse is
 * an error, never silently replaced.
 * @module
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';

export const RETURNS_FILE = 'fleet-returns.json';

/** One guest moved off `host` (its home) to `to` by an evacuation run with --return. */
export interface ReturnRecord {
  readonly host: string;
  readonly guest: string;
  readonly uuid: string;
  readonly to: string;
}

function parseReturns(text: string, file: string): ReturnRecord[] {
  const bad = (why: string): FerryError =>
    new FerryError('SYSTEM_ERROR', `Malformed fleet returns file '${file}': ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw bad((err as Error).message);
  }
  const returns = (value as { returns?: unknown } | null)?.returns;
  if (!Array.isArray(returns)) throw bad('expected {"returns": [...]}');
  return returns.map((r: unknown, i) => {
    const { host, guest, uuid, to } = (r ?? {}) as Record<string, unknown>;
    if ([host, guest, uuid, to].some((v) => typeof v !== 'string' || v === ''))
      throw bad(`entry ${i + 1} needs host, guest, uuid and to`);
    return { host, guest, uuid, to } as ReturnRecord;
  });
}

export class ReturnRecords {
  readonly file: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
  }

  /** Every record, or those of one evacuated host. */
  async list(host?: string): Promise<ReturnRecord[]> {
    const all = await this.#read();
    return host === undefined ? all : all.filter((r) => r.host === host);
  }

  /** Records a guest moved off its home host (replacing an older record of the same guest). */
  add(record: ReturnRecord): Promise<void> {
    return this.#change((all) => [...all.filter((r) => r.uuid !== record.uuid), record]);
  }

  /** Forgets the guest with this UUID (it came home, or the user moved it elsewhere). */
  remove(uuid: string): Promise<void> {
    return this.#change((all) => all.filter((r) => r.uuid !== uuid));
  }

  #change(edit: (all: ReturnRecord[]) => ReturnRecord[]): Promise<void> {
    const run = async (): Promise<void> => {
      await this.#write(edit(await this.#read()));
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #read(): Promise<ReturnRecord[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new FerryError(
        'SYSTEM_ERROR',
        `Cannot read fleet returns file '${this.file}': ${describeErrno(err)}`,
        { cause: err },
      );
    }
    return parseReturns(text, this.file);
  }

  async #write(returns: readonly ReturnRecord[]): Promise<void> {
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ returns }, null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new FerryError(
        'SYSTEM_ERROR',
        `Cannot write fleet returns file '${this.file}': ${describeErrno(err)}`,
        { cause: err },
      );
    }
  }
}
