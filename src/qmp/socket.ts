/**
 * Opening the QMP unix socket, optionally waiting for QEMU to create it.
 * @module
 */

import * as net from 'node:net';
import { messageOf } from '../common/errors.js';
import { QmpConnectError } from './errors.js';

// QEMU is paused (-S) until ferryd connects, so every millisecond here delays the guest.
const RETRY_DELAY_MS = 10;

/**
 * Connects to a unix socket; with `wait`, retries on ENOENT/ECONNREFUSED (QEMU still
 * starting) until `signal` aborts, reporting each failed attempt to `onRetry`.
 * Rejects with QmpConnectError on a failure it does not retry, or `signal.reason` on abort.
 */
export async function openSocket(
  path: string,
  wait: boolean,
  signal: AbortSignal,
  onRetry: (err: unknown) => void,
): Promise<net.Socket> {
  for (;;) {
    try {
      return await connectOnce(path, signal);
    } catch (err) {
      if (signal.aborted) throw abortReason(signal);
      const code = (err as NodeJS.ErrnoException).code;
      if (!wait || (code !== 'ENOENT' && code !== 'ECONNREFUSED')) {
        const message = `Cannot connect to QMP socket ${path}: ${messageOf(err)}`;
        throw new QmpConnectError(message, { cause: err });
      }
      onRetry(err);
      await sleep(RETRY_DELAY_MS, signal);
    }
  }
}

function connectOnce(path: string, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(path);
    const finish = (err?: Error): void => {
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', finish);
      if (err === undefined) {
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => {
      finish(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', finish);
    socket.once('connect', () => {
      finish();
    });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Aborts reject with `signal.reason` (as fetch does), or an AbortError if it is no Error. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}
