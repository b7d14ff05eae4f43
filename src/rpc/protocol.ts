/**
 * JSON-RPC 2.0 envelopes as Ferry puts them on the wire: one JSON object per frame
 * (see framing.ts), named params only, and error objects that carry the stable
 * {@link ErrorCode} so a {@link FerryError} survives the trip unchanged.
 *
 * ```text
 *   ferry (RpcClient)                                            ferryd (RpcServer)
 *     |  {"jsonrpc":"2.0","id":1,"method":"domain.start","params":{"name":"vm1"}}  |
 *     |---------------------------------------------------------------------------->|
 *     |                                    validate params -> handler -> validate result
 *     |  {"jsonrpc":"2.0","id":1,"result":{...}}                                  |
 *     |<----------------------------------------------------------------------------|
 *     |  {"jsonrpc":"2.0","id":2,"method":"domain.start","params":{"name":"nope"}} |
 *     |---------------------------------------------------------------------------->|
 *     |  {"jsonrpc":"2.0","id":2,"error":{"code":-32011,"message":"Domain not found: nope",
 *     |                                    "data":{"name":"NO_DOMAIN"}}}          |
 *     |<----------------------------------------------------------------------------|
 *     |  {"jsonrpc":"2.0","method":"domain.event","params":{...}}  (notification, |
 *     |<---------------------------------------------------------  no id, no reply)|
 *     |  {"jsonrpc":"2.0","method":"keepalive.ping"}                               |
 *     |---------------------------------------------------------------------------->|
 *     |  {"jsonrpc":"2.0","method":"keepalive.pong"}                               |
 *     |<----------------------------------------------------------------------------|
 *     |  <oversize / non-JSON line>                                                |
 *     |---------------------------------------------------------------------------->|
 *     |  {"jsonrpc":"2.0","id":null,"error":{"code":-32700,...}}  then close       |
 *     |<----------------------------------------------------------------------------|
 * ```
 *
 * Batches (JSON arrays) are not supported: they complicate in-flight accounting and
 * nothing in Ferry needs them.
 * @module
 */
import type { z } from 'zod';
import { ERROR_CODES, FerryError, errorCodeFromNumber, messageOf } from '../common/errors.js';
import type { ErrorCode } from '../common/errors.js';

/** A request id; `null` only appears in error replies to messages whose id was unreadable. */
export type RpcId = string | number;

/** The JSON-RPC error object; `data.name` is the stable Ferry error code. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: RpcErrorData;
}

/** Machine-readable error details: the code name, the cause's message and any extra facts. */
export interface RpcErrorData {
  [key: string]: unknown;
  name: ErrorCode;
  cause?: string;
}

export interface RequestEnvelope {
  jsonrpc: '2.0';
  id: RpcId;
  method: string;
  params?: unknown;
}
export interface NotificationEnvelope {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
}
export interface ResultEnvelope {
  jsonrpc: '2.0';
  id: RpcId;
  result: unknown;
}
export interface ErrorEnvelope {
  jsonrpc: '2.0';
  id: RpcId | null;
  error: RpcErrorObject;
}
export type Envelope = RequestEnvelope | NotificationEnvelope | ResultEnvelope | ErrorEnvelope;

/** An incoming envelope after validation, tagged with its kind (the tag is not on the wire). */
export type IncomingMessage =
  | { kind: 'request'; id: RpcId; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'result'; id: RpcId; result: unknown }
  | { kind: 'error'; id: RpcId | null; error: RpcErrorObject };

// Envelopes are checked by hand rather than with zod: the CLI loads this module on every
// run, and zod's start-up cost (~90 ms) would be most of `ferry list`'s time.
const ENVELOPE_KEYS = {
  request: ['jsonrpc', 'id', 'method', 'params'],
  notification: ['jsonrpc', 'method', 'params'],
  result: ['jsonrpc', 'id', 'result'],
  error: ['jsonrpc', 'id', 'error'],
} as const;

function isId(value: unknown): value is RpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** The first problem with a frame as an envelope of `kind`, or undefined when it is fine. */
function envelopeProblem(
  frame: Record<string, unknown>,
  kind: keyof typeof ENVELOPE_KEYS,
): string | undefined {
  const allowed: readonly string[] = ENVELOPE_KEYS[kind];
  const extra = Object.keys(frame).find((k) => !allowed.includes(k));
  if (extra !== undefined) return `Unrecognized key: "${extra}"`;
  if (frame['jsonrpc'] !== '2.0') return 'Invalid input: expected "2.0" at jsonrpc';
  if (kind === 'request' || kind === 'result') {
    if (!isId(frame['id'])) return 'Invalid input: expected string or number at id';
  }
  if (kind === 'error' && frame['id'] !== null && !isId(frame['id'])) {
    return 'Invalid input: expected string, number or null at id';
  }
  if (kind === 'request' || kind === 'notification') {
    if (typeof frame['method'] !== 'string' || frame['method'] === '') {
      return 'Invalid input: expected a non-empty string at method';
    }
    // The spec allows positional params; they reach the method's schema, which rejects them.
    const p = frame['params'];
    if (p !== undefined && (typeof p !== 'object' || p === null)) {
      return 'Invalid input: expected object or array at params';
    }
  }
  if (kind === 'error') {
    const e = frame['error'];
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      return 'Invalid input: expected object at error';
    const { code, message, ...rest } = e as Record<string, unknown>;
    const unknownKey = Object.keys(rest).find((k) => k !== 'data');
    if (unknownKey !== undefined) return `Unrecognized key: "${unknownKey}" at error`;
    if (typeof code !== 'number' || !Number.isInteger(code))
      return 'Invalid input: expected int at error.code';
    if (typeof message !== 'string') return 'Invalid input: expected string at error.message';
  }
  return undefined;
}

/** The outcome of {@link parseMessage}: on failure, the id to answer with (if readable). */
export type ParseOutcome =
  { ok: true; message: IncomingMessage } | { ok: false; id: RpcId | null; error: FerryError };

/**
 * Validates one decoded frame as a JSON-RPC 2.0 envelope (strictly: unknown members are rejected).
 * Precondition: `frame` is a plain JSON object (framing.ts guarantees this).
 */
export function parseMessage(frame: Record<string, unknown>): ParseOutcome {
  // Classify by member presence first, then check that kind's shape.
  let kind: keyof typeof ENVELOPE_KEYS | undefined;
  if ('method' in frame) kind = 'id' in frame ? 'request' : 'notification';
  else if ('result' in frame) kind = 'result';
  else if ('error' in frame) kind = 'error';
  if (kind === undefined) return invalid(frame, 'not a request, notification or response');
  const problem = envelopeProblem(frame, kind);
  if (problem !== undefined) return invalid(frame, problem);
  switch (kind) {
    case 'request':
      return {
        ok: true,
        message: {
          kind,
          id: frame['id'] as RpcId,
          method: frame['method'] as string,
          params: frame['params'],
        },
      };
    case 'notification':
      return {
        ok: true,
        message: { kind, method: frame['method'] as string, params: frame['params'] },
      };
    case 'result':
      return { ok: true, message: { kind, id: frame['id'] as RpcId, result: frame['result'] } };
    case 'error': {
      const error = frame['error'] as { code: number; message: string; data?: unknown };
      const obj: RpcErrorObject = { code: error.code, message: error.message };
      if (isErrorData(error.data)) obj.data = error.data;
      return { ok: true, message: { kind, id: frame['id'] as RpcId | null, error: obj } };
    }
  }
}

function invalid(frame: Record<string, unknown>, why: string): ParseOutcome {
  const rid = frame['id'];
  return {
    ok: false,
    id: isId(rid) ? rid : null,
    error: new FerryError('INVALID_REQUEST', `Invalid JSON-RPC message: ${why}`),
  };
}

// Data from another version may carry a code name we do not know; it is then dropped and
// the numeric code decides (fromErrorObject), rather than trusting an unknown name.
function isErrorData(value: unknown): value is RpcErrorData {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { name, cause } = value as Record<string, unknown>;
  return (
    typeof name === 'string' &&
    Object.hasOwn(ERROR_CODES, name) &&
    (cause === undefined || typeof cause === 'string')
  );
}

/** Renders a zod error on one line, e.g. `Unrecognized key: "bogus"; Too small: … at parallelConnections`. */
export function formatZodError(error: z.ZodError): string {
  // Shallowest first, as z.prettifyError orders them: object-level problems before field ones.
  return [...error.issues]
    .sort((a, b) => a.path.length - b.path.length)
    .map((issue) =>
      issue.path.length > 0
        ? `${issue.message} at ${issue.path.map(String).join('.')}`
        : issue.message,
    )
    .join('; ');
}

/** Builds a request envelope; `params` is omitted from the wire when undefined. */
export function makeRequest(rid: RpcId, name: string, p?: unknown): RequestEnvelope {
  return p === undefined
    ? { jsonrpc: '2.0', id: rid, method: name }
    : { jsonrpc: '2.0', id: rid, method: name, params: p };
}

/** Builds a notification envelope (no id, never answered). */
export function makeNotification(name: string, p?: unknown): NotificationEnvelope {
  return p === undefined
    ? { jsonrpc: '2.0', method: name }
    : { jsonrpc: '2.0', method: name, params: p };
}

/** Builds a success response; an undefined result is sent as `null` (JSON has no undefined). */
export function makeResult(rid: RpcId, result: unknown): ResultEnvelope {
  // Without this, JSON.stringify would drop the member and the reply would be malformed.
  return { jsonrpc: '2.0', id: rid, result: result ?? null };
}

/** Builds an error response; use id `null` when the request's id could not be read. */
export function makeError(rid: RpcId | null, err: FerryError): ErrorEnvelope {
  return { jsonrpc: '2.0', id: rid, error: toErrorObject(err) };
}

/**
 * Converts a FerryError to its wire form. `data.name` and `data.cause` override
 * same-named keys of `err.data` because the client relies on them.
 */
export function toErrorObject(err: FerryError): RpcErrorObject {
  const data: RpcErrorData = { ...err.data, name: err.code };
  if (err.cause !== undefined) data.cause = messageOf(err.cause);
  return { code: ERROR_CODES[err.code], message: err.message, data };
}

/**
 * Rebuilds a FerryError (same code, message and extra data) from a wire error object.
 * Precondition: `obj` came from {@link parseMessage} (so `data.name` is a known code).
 */
export function fromErrorObject(obj: RpcErrorObject): FerryError {
  const { name, cause, ...extra } = obj.data ?? { name: errorCodeFromNumber(obj.code) };
  return new FerryError(name, obj.message, {
    ...(cause === undefined ? {} : { cause }),
    ...(Object.keys(extra).length > 0 ? { data: extra } : {}),
  });
}
