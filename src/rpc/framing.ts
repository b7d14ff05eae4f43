/**
 * Newline-delimited JSON framing: each frame is one UTF-8 JSON object followed by `\n`.
 * JSON.stringify never emits a raw newline and UTF-8 never uses byte 0x0a inside a
 * multi-byte sequence, so splitting on that byte is exact and needs no escaping.
 * The same bytes go over unix, tcp, tls and ssh stdio; WebSocket messages carry one frame each.
 * @module
 */
import { FerryError } from '../common/errors.js';

/** Frames larger than this (in bytes, excluding the newline) are refused by default. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** A decoded frame: always a plain JSON object (never an array or a primitive). */
export type JsonObject = Record<string, unknown>;

/** Why a frame was refused. */
export type FrameErrorReason = 'oversize' | 'utf8' | 'json' | 'not-object';

/** A frame that cannot be decoded or encoded; when decoding, the connection must be dropped. */
export class FrameError extends FerryError {
  override readonly name = 'FrameError';
  readonly reason: FrameErrorReason;

  constructor(reason: FrameErrorReason, message: string, cause?: unknown) {
    // PARSE_ERROR is JSON-RPC's code for unreadable bytes; a readable but unacceptable
    // frame (too big, not an object) is an invalid request.
    const code = reason === 'utf8' || reason === 'json' ? 'PARSE_ERROR' : 'INVALID_REQUEST';
    super(code, message, cause === undefined ? {} : { cause });
    this.reason = reason;
  }
}

const NEWLINE = 0x0a;

function checkLimit(maxFrameBytes: number): number {
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
    throw new FerryError('INVALID_ARG', `Invalid maximum frame size: ${String(maxFrameBytes)}`);
  }
  return maxFrameBytes;
}

function oversize(max: number): FrameError {
  return new FrameError('oversize', `Frame exceeds the maximum size of ${max} bytes`);
}

/**
 * Splits a byte stream into JSON object frames, holding at most `maxFrameBytes` of an
 * unfinished line. After it throws, the stream is out of sync and must not be fed again.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  // fatal: invalid UTF-8 must be refused, not silently turned into U+FFFD.
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true });

  /** Precondition: `maxFrameBytes` is a positive safe integer. */
  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = checkLimit(maxFrameBytes);
  }

  /** Bytes of the unfinished last line (e.g. to report a truncated frame at EOF). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Feeds a chunk, calling `onFrame` for each complete frame in order; throws a
   * FrameError at the first bad frame (frames before it have been delivered).
   */
  push(chunk: Uint8Array, onFrame: (frame: JsonObject) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const lineBytes = this.#pendingBytes + (nl - start);
      if (lineBytes > this.maxFrameBytes) throw oversize(this.maxFrameBytes);
      const piece = chunk.subarray(start, nl);
      const line =
        this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece], lineBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      start = nl + 1;
      const frame = this.#decode(line);
      if (frame !== undefined) onFrame(frame);
    }
    if (start < chunk.length) {
      // Refuse as soon as the partial line is too long, so a peer that never sends a
      // newline cannot make us buffer without bound.
      this.#pendingBytes += chunk.length - start;
      if (this.#pendingBytes > this.maxFrameBytes) throw oversize(this.maxFrameBytes);
      // Copy: the caller may reuse its chunk buffer.
      this.#pending.push(Buffer.from(chunk.subarray(start)));
    }
  }

  #decode(line: Uint8Array): JsonObject | undefined {
    let text: string;
    try {
      text = this.#utf8.decode(line);
    } catch (err) {
      throw new FrameError('utf8', 'Frame is not valid UTF-8', err);
    }
    // Blank lines (and a CR from CRLF) are tolerated so that humans can talk to the
    // socket with socat/nc without tripping the parser.
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new FrameError('json', `Frame is not valid JSON: ${(err as Error).message}`, err);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new FrameError('not-object', 'Frame is not a JSON object');
    }
    return value as JsonObject;
  }
}

/**
 * Serializes one message as a frame (JSON + newline); throws a FrameError if it is not
 * serializable or bigger than `maxFrameBytes`, so we never send what the peer must refuse.
 */
export function encodeFrame(msg: object, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Buffer {
  let text: string;
  try {
    text = JSON.stringify(msg);
  } catch (err) {
    // BigInt values and cycles end up here.
    throw new FrameError('json', `Message is not serializable as JSON: ${(err as Error).message}`);
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > maxFrameBytes) throw oversize(maxFrameBytes);
  const buf = Buffer.allocUnsafe(bytes + 1);
  buf.write(text, 0, 'utf8');
  buf[bytes] = NEWLINE;
  return buf;
}
