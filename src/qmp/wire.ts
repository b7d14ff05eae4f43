/**
 * QMP wire format: newline framing and classification of incoming JSON objects.
 * Knows message shapes only, never command names.
 * @module
 */

import { QmpProtocolError } from './errors.js';

/** The `{"QMP": ...}` greeting QEMU sends first on every connection. */
export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

/** An asynchronous event; `data` is `{}` for events that carry none. */
export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** One incoming message, classified by its top-level keys. */
export type QmpMessage =
  | { kind: 'greeting'; greeting: QmpGreeting }
  | { kind: 'event'; event: QmpEvent }
  | { kind: 'return'; id: unknown; value: unknown }
  | { kind: 'error'; id: unknown; class: string; desc: string }
  | { kind: 'unknown'; raw: Record<string, unknown> };

/** Splits a byte stream into lines; a line may span any number of chunks. */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  /** `maxLineBytes` bounds memory use against a peer that never sends a newline. */
  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Calls `onLine` for each complete line; throws QmpProtocolError on an oversize line. */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      // Concatenate only when a line spans chunks, so long lines are not copied repeatedly.
      const line = this.#buffered === 0 ? piece : Buffer.concat([...this.#chunks, piece]);
      this.#chunks = [];
      this.#buffered = 0;
      start = nl + 1;
      this.#check(line.length);
      // Decode whole lines only, so multi-byte UTF-8 split across chunks stays intact.
      onLine(line.toString('utf8'));
    }
    if (start >= chunk.length) return;
    this.#chunks.push(chunk.subarray(start));
    this.#buffered += chunk.length - start;
    this.#check(this.#buffered);
  }

  #check(length: number): void {
    if (length > this.#maxLineBytes) {
      this.#chunks = [];
      this.#buffered = 0;
      throw new QmpProtocolError(`QMP peer sent a line longer than ${this.#maxLineBytes} bytes`);
    }
  }
}

/** Parses one line; undefined for a blank line, QmpProtocolError for anything but an object. */
export function parseLine(text: string): QmpMessage | undefined {
  const trimmed = text.trim(); // QEMU ends lines with \r\n
  if (trimmed === '') return undefined;
  let msg: unknown;
  try {
    msg = JSON.parse(trimmed);
  } catch (err) {
    const excerpt = trimmed.length > 60 ? `${trimmed.slice(0, 60)}...` : trimmed;
    throw new QmpProtocolError(`QMP peer sent a line that is not JSON: ${excerpt}`, {
      cause: err,
    });
  }
  if (!isRecord(msg)) throw new QmpProtocolError('QMP peer sent JSON that is not an object');
  if ('QMP' in msg) {
    const greeting = parseGreeting(msg.QMP);
    if (greeting === undefined) throw new QmpProtocolError('QMP peer sent a malformed greeting');
    return { kind: 'greeting', greeting };
  }
  if (typeof msg.event === 'string') return { kind: 'event', event: parseEvent(msg.event, msg) };
  if (isRecord(msg.error)) {
    const { class: cls, desc } = msg.error;
    return {
      kind: 'error',
      id: msg.id,
      class: typeof cls === 'string' ? cls : 'GenericError',
      desc: typeof desc === 'string' ? desc : 'no description given',
    };
  }
  if ('return' in msg) return { kind: 'return', id: msg.id, value: msg.return };
  return { kind: 'unknown', raw: msg };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseGreeting(v: unknown): QmpGreeting | undefined {
  if (!isRecord(v) || !isRecord(v.version) || !isRecord(v.version.qemu)) return undefined;
  const { major, minor, micro } = v.version.qemu;
  if (typeof major !== 'number' || typeof minor !== 'number' || typeof micro !== 'number') {
    return undefined;
  }
  const pkg = typeof v.version.package === 'string' ? v.version.package : '';
  const caps = Array.isArray(v.capabilities)
    ? v.capabilities.filter((c): c is string => typeof c === 'string')
    : [];
  return { version: { qemu: { major, minor, micro }, package: pkg }, capabilities: caps };
}

function parseEvent(event: string, msg: Record<string, unknown>): QmpEvent {
  const ts = isRecord(msg.timestamp) ? msg.timestamp : {};
  return {
    event,
    data: isRecord(msg.data) ? msg.data : {},
    timestamp: {
      seconds: typeof ts.seconds === 'number' ? ts.seconds : 0,
      microseconds: typeof ts.microseconds === 'number' ? ts.microseconds : 0,
    },
  };
}
