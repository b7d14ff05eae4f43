/**
 * The fleet's remote hosts, added by URI (ferry fleet add, the console's "Add host"), in
 * STATE_DIR/fleet-hosts.json, shared by
 * every user of this ferryd: `{ "hosts": [{ "id": "…", "uri": "qemu+tcp://…/system" }] }`.
 * Written atomically (temp file, fsync, rename); writes are serialized so two users adding at
 * once both stay. A file that does not parse is an error, never silently replaced.
 * @module
 */
import { createHash } from 'node:crypto';
import type { FerryError } from '../common/errors.js';
import { JsonFile } from '../common/node/json-file.js';

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

function parseHosts(value: unknown, bad: (why: string) => FerryError): HostsDocument {
  const hosts = (value as { hosts?: unknown } | null)?.hosts;
  if (!Array.isArray(hosts)) throw bad('expected {"hosts": [...]}');
  const list = hosts.map((h: unknown, i) => {
    const { id, uri } = (h ?? {}) as { id?: unknown; uri?: unknown };
    if (typeof id !== 'string' || typeof uri !== 'string' || id === '' || uri === '')
      throw bad(`host ${i + 1} needs an id and a uri`);
    return { id, uri };
  });
  return { hosts: list };
}

interface HostsDocument {
  hosts: FleetHostRecord[];
}

export class FleetStore {
  readonly #doc: JsonFile<HostsDocument>;

  constructor(file: string) {
    this.#doc = new JsonFile(file, 'fleet hosts file', () => ({ hosts: [] }), parseHosts);
  }

  get file(): string {
    return this.#doc.file;
  }

  /** Every known host, in the order added (none when the file does not exist yet). */
  async list(): Promise<FleetHostRecord[]> {
    return (await this.#doc.read()).hosts;
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
    return this.#doc.update(async (current) => {
      const { hosts, answer } = await change(current.hosts);
      return hosts === undefined ? { answer } : { value: { hosts }, answer };
    });
  }
}
