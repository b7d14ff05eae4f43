/**
 * Where evacuated guests came from (`ferry evacuate HOST --return`), so `evacuate --undo HOST`
 * can bring them back after the maintenance: STATE_DIR/fleet-returns.json,
 * `{ "returns": [{ "host": "h1", "guest": "vm1", "uuid": "…", "to": "h2" }] }`. Written
 * atomically (temp file, fsync, rename), one change at a time. A file that does not parse is
 * an error, never silently replaced.
 * @module
 */
import type { FerryError } from '../common/errors.js';
import { JsonFile } from '../common/node/json-file.js';

export const RETURNS_FILE = 'fleet-returns.json';

/** One guest moved off `host` (its home) to `to` by an evacuation run with --return. */
export interface ReturnRecord {
  readonly host: string;
  readonly guest: string;
  readonly uuid: string;
  readonly to: string;
}

function parseReturns(value: unknown, bad: (why: string) => FerryError): ReturnsDocument {
  const returns = (value as { returns?: unknown } | null)?.returns;
  if (!Array.isArray(returns)) throw bad('expected {"returns": [...]}');
  const list = returns.map((r: unknown, i) => {
    const { host, guest, uuid, to } = (r ?? {}) as Record<string, unknown>;
    if ([host, guest, uuid, to].some((v) => typeof v !== 'string' || v === ''))
      throw bad(`entry ${i + 1} needs host, guest, uuid and to`);
    return { host, guest, uuid, to } as ReturnRecord;
  });
  return { returns: list };
}

interface ReturnsDocument {
  returns: ReturnRecord[];
}

export class ReturnRecords {
  readonly #doc: JsonFile<ReturnsDocument>;

  constructor(file: string) {
    this.#doc = new JsonFile(file, 'fleet returns file', () => ({ returns: [] }), parseReturns);
  }

  get file(): string {
    return this.#doc.file;
  }

  /** Every record, or those of one evacuated host. */
  async list(host?: string): Promise<ReturnRecord[]> {
    const all = (await this.#doc.read()).returns;
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
    return this.#doc.update((doc) => ({
      value: { returns: edit(doc.returns) },
      answer: undefined,
    }));
  }
}
