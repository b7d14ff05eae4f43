/**
 * The one error type that crosses module and wire boundaries: a stable code from
 * {@link ERROR_CODES} plus a one-line message that names the offending thing.
 * @module
 */

/** Stable error names (libvirt's VIR_ERR_* spirit) mapped to JSON-RPC error numbers. */
export const ERROR_CODES = {
  INVALID_ARG: -32602,
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INTERNAL_ERROR: -32603,
  XML_ERROR: -32010,
  NO_DOMAIN: -32011,
  OPERATION_INVALID: -32012,
  DOMAIN_EXISTS: -32013,
  NO_SUPPORT: -32014,
  CONFIG_UNSUPPORTED: -32015,
  OPERATION_FAILED: -32016,
  OPERATION_TIMEOUT: -32017,
  SYSTEM_ERROR: -32018,
  CONNECT_FAILED: -32019,
  QMP_ERROR: -32020,
  /** Wrong credentials or certificate (virsh: "authentication failed: …"). */
  AUTH_FAILED: -32021,
  /** A migration completed, but the guest failed on the destination (data.evidence says how). */
  GUEST_FAILED: -32022,
  /** A call other than the auth.* ones on a connection that has not logged in yet. */
  AUTH_REQUIRED: -32023,
  /** The host's policy forbids it (a path outside allowed_paths, QEMU passthrough). */
  ACCESS_DENIED: -32024,
  /** No storage pool of that name, or (for a guest's disk) one that is not active. */
  NO_STORAGE_POOL: -32025,
  /** No storage volume of that name, key or path. */
  NO_STORAGE_VOL: -32026,
  /** The guest's CPU cannot run on that host (libvirt's VIR_ERR_CPU_INCOMPATIBLE). */
  CPU_INCOMPATIBLE: -32027,
  /** A migration's preflight found a check that fails; nothing was changed. */
  PREFLIGHT_FAILED: -32028,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

const CODE_BY_NUMBER = new Map<number, ErrorCode>(
  Object.entries(ERROR_CODES).map(([name, num]) => [num, name as ErrorCode]),
);

/** Looks up the stable name of a JSON-RPC error number; unknown numbers become INTERNAL_ERROR. */
export function errorCodeFromNumber(num: number): ErrorCode {
  return CODE_BY_NUMBER.get(num) ?? 'INTERNAL_ERROR';
}

export interface FerryErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts (e.g. line/column of an XML error). */
  data?: Record<string, unknown>;
}

/** An error with a stable code; messages are sentence case with no final period. */
export class FerryError extends Error {
  override readonly name: string = 'FerryError';
  readonly code: ErrorCode;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: FerryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options.data;
  }
}

/** A syntax error in an XML document, with its position. */
export class XmlSyntaxError extends FerryError {
  override readonly name = 'XmlSyntaxError';
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(message: string, line?: number, column?: number) {
    const where =
      line === undefined
        ? ''
        : ` (line ${line}${column === undefined ? '' : `, column ${column}`})`;
    super('XML_ERROR', `${message}${where}`, { data: { line, column } });
    this.line = line;
    this.column = column;
  }
}

/** Extracts a readable message from anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
