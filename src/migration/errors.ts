/**
 * The error of a migration that did not complete, with the phase it failed in.
 * @module
 */
import { FerryError } from '../common/errors.js';

export type MigrationPhase = 'begin' | 'prepare' | 'perform' | 'finish' | 'confirm';

export class MigrationError extends FerryError {
  override readonly name = 'MigrationError';
  constructor(
    readonly phase: MigrationPhase,
    message: string,
    cause?: unknown,
  ) {
    super(
      phase === 'begin' ? 'INVALID_ARG' : 'OPERATION_FAILED',
      message,
      cause === undefined ? {} : { cause },
    );
  }
}
