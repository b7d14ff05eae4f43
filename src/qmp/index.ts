/**
 * The QMP protocol: framing, handshake, id-correlated commands, events and disconnect
 * detection. It knows no command names beyond `qmp_capabilities`; the vocabulary lives in
 * src/qemu.
 * @module
 */

export {
  QmpClient,
  type QmpCallOptions,
  type QmpExecuteOptions,
  type QmpConnectOptions,
  type QmpWaitOptions,
} from './client.js';
export {
  QmpCommandError,
  QmpConnectError,
  QmpDisconnectedError,
  QmpProtocolError,
  QmpTimeoutError,
} from './errors.js';
export type { QmpEvent, QmpGreeting } from './wire.js';
