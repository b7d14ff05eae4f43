/**
 * A small JSON document on disk that several callers change (ferryd's fleet files): read
 * whole, changed one change at a time, written atomically (temp file, fsync, rename, mode
 * 0600), so a crash leaves the old document or the new one, never half of one. A document that
 * does not parse is an error naming the file, never silently replaced.
 * @module
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FerryError } from '../errors.js';
import { describeErrno } from './errno.js';

export class JsonFile<T> {
  readonly file: string;
  readonly #what: string;
  readonly #empty: () => T;
  readonly #parse: (value: unknown, bad: (why: string) => FerryError) => T;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * `what` names the document in errors ("fleet hosts file"); `empty` is the document while
   * the file does not exist; `parse` checks a parsed value, throwing `bad(why)` when wrong.
   */
  constructor(
    file: string,
    what: string,
    empty: () => T,
    parse: (value: unknown, bad: (why: string) => FerryError) => T,
  ) {
    this.file = file;
    this.#what = what;
    this.#empty = empty;
    this.#parse = parse;
  }

  async read(): Promise<T> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.#empty();
      throw new FerryError(
        'SYSTEM_ERROR',
        `Cannot read ${this.#what} '${this.file}': ${describeErrno(err)}`,
        { cause: err },
      );
    }
    const bad = (why: string): FerryError =>
      new FerryError('SYSTEM_ERROR', `Malformed ${this.#what} '${this.file}': ${why}`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw bad((err as Error).message);
    }
    return this.#parse(value, bad);
  }

  /**
   * Runs `change` on the current document and writes what it returns as `value` (unless
   * undefined), one change at a time; resolves with `change`'s answer.
   */
  update<A>(
    change: (current: T) => { value?: T; answer: A } | Promise<{ value?: T; answer: A }>,
  ): Promise<A> {
    const run = async (): Promise<A> => {
      const { value, answer } = await change(await this.read());
      if (value !== undefined) await this.#write(value);
      return answer;
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #write(value: T): Promise<void> {
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify(value, null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new FerryError(
        'SYSTEM_ERROR',
        `Cannot write ${this.#what} '${this.file}': ${describeErrno(err)}`,
        { cause: err },
      );
    }
  }
}
