/**
 * The listener bookkeeping every {@link Transport} shares: message and close subscribers, the
 * closed flag and its reason, delivery that survives a listener that throws, and close
 * listeners called once. The transports keep only what their medium needs.
 * @module
 */
import { FerryError } from '../../common/errors.js';
import type { JsonObject } from '../framing.js';
import type { CloseListener } from './index.js';

export class TransportListeners {
  readonly #message = new Set<(msg: JsonObject) => void>();
  readonly #close = new Set<CloseListener>();
  #closed = false;
  #reason: FerryError | undefined;

  get closed(): boolean {
    return this.#closed;
  }

  onMessage(cb: (msg: JsonObject) => void): () => void {
    this.#message.add(cb);
    return () => this.#message.delete(cb);
  }

  /** Subscribes to the close; called at once (asynchronously) when already closed. */
  onClose(cb: CloseListener): () => void {
    if (this.#closed) {
      const reason = this.#reason;
      queueMicrotask(() => {
        cb(reason);
      });
      return () => undefined;
    }
    this.#close.add(cb);
    return () => this.#close.delete(cb);
  }

  /**
   * Delivers one frame to the message listeners, stopping once the transport has closed (a
   * listener may close it). A listener that throws would make the exception uncaught and crash
   * the daemon: delivery stops and the error to close the connection with is returned.
   */
  emit(frame: JsonObject): FerryError | undefined {
    for (const cb of this.#message) {
      if (this.#closed) return undefined;
      try {
        cb(frame);
      } catch (err) {
        return new FerryError('INTERNAL_ERROR', 'Internal error while handling a message', {
          cause: err,
        });
      }
    }
    return undefined;
  }

  /** Marks the transport closed; false when it already was (the caller then does nothing). */
  markClosed(reason: FerryError | undefined): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#reason = reason;
    return true;
  }

  /** Calls each close listener once with the reason, after dropping every subscriber. */
  fireClose(): void {
    const listeners = [...this.#close];
    this.#close.clear();
    this.#message.clear();
    for (const cb of listeners) {
      try {
        cb(this.#reason);
      } catch {
        // Close listeners are cleanup code; one failing must not stop the others.
      }
    }
  }
}
