/**
 * libvirtd.conf's syntax, as ferryd.conf uses it: `key = "string"`, `key = 123`, and lists
 * `key = ["a", "b"]` that may run over several lines (with comments between items), `#`
 * comments anywhere outside strings. Which keys exist and what they hold is config.ts's job.
 * @module
 */
import { FerryError } from '../common/errors.js';

export type ConfValue =
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'number'; readonly n: number }
  | { readonly kind: 'list'; readonly items: readonly ConfValue[] };

export interface ConfEntry {
  readonly key: string;
  readonly value: ConfValue;
  /** `FILE:LINE` of the key, for error messages. */
  readonly where: string;
}

/** A cursor over the file's text that knows its line number. */
class Scanner {
  pos = 0;
  line = 1;
  constructor(readonly text: string) {}

  peek(): string {
    return this.text[this.pos] ?? '';
  }
  next(): string {
    const ch = this.text[this.pos++] ?? '';
    if (ch === '\n') this.line++;
    return ch;
  }
  /** Skips spaces and tabs, and with `lines` also newlines and comments. */
  skip(lines: boolean): void {
    for (;;) {
      const ch = this.peek();
      if (ch === ' ' || ch === '\t' || ch === '\r' || (lines && ch === '\n')) this.next();
      else if (lines && ch === '#') while (this.peek() !== '\n' && this.peek() !== '') this.next();
      else return;
    }
  }
  match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m === null) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
}

const KEY = /[a-z_][a-z0-9_]*/y;
const NUMBER = /-?\d+/y;
const STRING = /"((?:[^"\\\n]|\\.)*)"/y;

function scalar(s: Scanner): ConfValue | undefined {
  const str = s.match(STRING);
  if (str !== undefined) return { kind: 'string', text: str.slice(1, -1).replace(/\\(.)/g, '$1') };
  const num = s.match(NUMBER);
  if (num !== undefined) return { kind: 'number', n: Number(num) };
  return undefined;
}

/** `[` item (`,` item)* `,`? `]`, items being strings or numbers; undefined when malformed. */
function list(s: Scanner): ConfValue | undefined {
  s.next();
  const items: ConfValue[] = [];
  for (;;) {
    s.skip(true);
    if (s.peek() === ']') {
      s.next();
      return { kind: 'list', items };
    }
    const item = scalar(s);
    if (item === undefined) return undefined;
    items.push(item);
    s.skip(true);
    if (s.peek() === ',') s.next();
    else if (s.peek() !== ']') return undefined;
  }
}

/** Parses a whole file's text into its entries, in order; a malformed entry names its line. */
export function parseConfSyntax(text: string, file: string): ConfEntry[] {
  const s = new Scanner(text);
  const entries: ConfEntry[] = [];
  for (;;) {
    s.skip(true);
    if (s.peek() === '') return entries;
    const where = `${file}:${s.line}`;
    const key = s.match(KEY);
    s.skip(false);
    const eq = key !== undefined && s.peek() === '=';
    if (eq) {
      s.next();
      s.skip(false);
    }
    const isList = eq && s.peek() === '[';
    const value = !eq ? undefined : isList ? list(s) : scalar(s);
    s.skip(false);
    if (s.peek() === '#') while (s.peek() !== '\n' && s.peek() !== '') s.next();
    const ends = s.peek() === '\n' || s.peek() === '';
    if (key === undefined || value === undefined || !ends) {
      throw new FerryError(
        'INVALID_ARG',
        isList
          ? `Malformed list at ${where}: expected ["value", …]`
          : `Malformed setting at ${where}: expected key = "value" or key = number`,
      );
    }
    entries.push({ key, value, where });
  }
}
