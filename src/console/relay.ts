/**
 * Relays one browser WebSocket to a remote ferryd (`/rpc?host=ID`): each request the page
 * sends is forwarded as it is over a peer connection of its own (ferryd's credentials, as a
 * migration's), with no per-call timeout since migration.start lasts the whole job; replies go
 * back under the page's ids, and every notification of the peer (job.progress, domain.event)
 * is passed on. If the peer goes away, the page gets one error frame (id null) saying so and
 * its socket is closed, so it can show why and reconnect.
 * @module
 */
import { FerryError } from '../common/errors.js';
import {
  handleKeepalive,
  makeError,
  makeNotification,
  makeResult,
  parseMessage,
  type JsonObject,
  type Transport,
} from '../rpc/index.js';
import type { HostClient } from '../fleet/index.js';

/** Requests one page may have running on the peer at once; further input waits. */
const MAX_IN_FLIGHT = 64;

export interface RelayLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

function asFerryError(err: unknown): FerryError {
  return err instanceof FerryError ? err : new FerryError('INTERNAL_ERROR', 'Internal error');
}

/** Tells the page why, then closes its socket (after replies already queued have gone out). */
function hangUp(browser: Transport, error: FerryError): void {
  setImmediate(() => {
    try {
      browser.send(makeError(null, error));
    } catch {
      // A short error always encodes.
    }
    browser.close(error);
  });
}

/**
 * Connects to the host (`label` names it in messages: its URI) and relays `browser` to it
 * until either side closes. Browser input waits while the connection is being made.
 */
export function relayToHost(
  browser: Transport,
  label: string,
  connect: () => Promise<HostClient>,
  log: RelayLog,
): void {
  const queued: JsonObject[] = [];
  let client: HostClient | undefined;
  let inFlight = 0;

  const forward = (frame: JsonObject, peer: HostClient): void => {
    const parsed = parseMessage(frame);
    if (!parsed.ok) {
      browser.send(makeError(parsed.id, parsed.error));
      return;
    }
    const msg = parsed.message;
    if (handleKeepalive(browser, msg)) return;
    if (msg.kind === 'notification') {
      peer.notify(msg.method, msg.params);
      return;
    }
    if (msg.kind !== 'request') return;
    inFlight++;
    if (inFlight >= MAX_IN_FLIGHT) browser.pause();
    peer
      .callRaw(msg.method, msg.params ?? {}, { timeoutMs: 0 })
      .then(
        (result) => {
          browser.send(makeResult(msg.id, result));
        },
        (err: unknown) => {
          browser.send(makeError(msg.id, asFerryError(err)));
        },
      )
      .catch((err: unknown) => {
        // The result could not be encoded for the page (too big): it is still owed an answer.
        browser.send(makeError(msg.id, asFerryError(err)));
      })
      .finally(() => {
        inFlight--;
        if (inFlight < MAX_IN_FLIGHT) browser.resume();
      });
  };

  browser.onMessage((frame) => {
    if (client === undefined) queued.push(frame);
    else forward(frame, client);
  });
  browser.pause();
  browser.onClose(() => client?.close());

  connect().then(
    (peer) => {
      if (browser.closed) {
        peer.close();
        return;
      }
      client = peer;
      peer.onAnyNotification((method, params) => {
        try {
          browser.send(makeNotification(method, params));
        } catch (err) {
          log.warn(
            { peer: label, method, err: asFerryError(err).message },
            'cannot relay a notification',
          );
        }
      });
      peer.onClose((reason) => {
        if (browser.closed) return;
        log.info({ peer: label, reason: reason.message }, 'console relay: host connection lost');
        hangUp(
          browser,
          new FerryError('CONNECT_FAILED', `Connection to ${label} lost: ${reason.message}`),
        );
      });
      for (const frame of queued.splice(0)) forward(frame, peer);
      browser.resume();
    },
    (err: unknown) => {
      const error = asFerryError(err);
      log.warn({ peer: label, err: error.message }, 'console relay: cannot connect');
      hangUp(browser, new FerryError(error.code, error.message));
    },
  );
}
