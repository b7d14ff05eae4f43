/**
 * Errors raised by the QMP client. All are {@link FerryError}s so they cross the RPC
 * boundary with a stable code: QMP_ERROR, or OPERATION_TIMEOUT for timeouts.
 * @module
 */

import { FerryError, type FerryErrorOptions } from '../common/errors.js';

/** Squashes text from QEMU into one line without a final period, as our messages require. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

/** QEMU answered a command with `{"error": {"class", "desc"}}`. */
export class QmpCommandError extends FerryError {
  override readonly name = 'QmpCommandError';
  /** The command that failed, e.g. `cont`. */
  readonly command: string;
  /** QEMU's error class, e.g. `CommandNotFound` or `GenericError`. */
  readonly class: string;
  /** QEMU's human-readable description, verbatim. */
  readonly desc: string;

  constructor(command: string, errorClass: string, desc: string) {
    super('QMP_ERROR', `QMP command '${command}' failed: ${oneLine(desc)}`, {
      data: { command, class: errorClass, desc },
    });
    this.command = command;
    this.class = errorClass;
    this.desc = desc;
  }
}

/** The QMP connection is gone (peer closed it, socket failed, or we closed it). */
export class QmpDisconnectedError extends FerryError {
  override readonly name = 'QmpDisconnectedError';

  constructor(message: string, options: FerryErrorOptions = {}) {
    super('QMP_ERROR', oneLine(message), options);
  }
}

/** The QMP socket could not be connected to at all (not a timeout). */
export class QmpConnectError extends FerryError {
  override readonly name = 'QmpConnectError';

  constructor(message: string, options: FerryErrorOptions = {}) {
    super('QMP_ERROR', oneLine(message), options);
  }
}

/** A QMP operation did not finish in time; `what` completes "Timed out after N ms ...". */
export class QmpTimeoutError extends FerryError {
  override readonly name = 'QmpTimeoutError';
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number, options: FerryErrorOptions = {}) {
    super('OPERATION_TIMEOUT', `Timed out after ${timeoutMs} ms ${what}`, {
      ...options,
      data: { timeoutMs, ...options.data },
    });
    this.timeoutMs = timeoutMs;
  }
}

/** The peer sent something that is not QMP (oversize line, non-JSON, malformed greeting). */
export class QmpProtocolError extends FerryError {
  override readonly name = 'QmpProtocolError';

  constructor(message: string, options: FerryErrorOptions = {}) {
    super('QMP_ERROR', oneLine(message), options);
  }
}
