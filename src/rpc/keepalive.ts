/**
 * libvirt-style keepalive (virkeepalive): when nothing has been heard from the peer for
 * `intervalMs`, send a `keepalive.ping` notification; after `count` pings in a row go
 * unanswered (no message of any kind arrives), the peer is dead and the transport is
 * closed, failing pending calls instead of hanging forever. Both RpcServer and RpcClient
 * answer pings with `keepalive.pong`, so either side may enable it. Off by default:
 * a unix socket reports a dead peer by itself.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { makeNotification } from './protocol.js';
import type { IncomingMessage } from './protocol.js';
import type { Transport } from './transport/index.js';

export const KEEPALIVE_PING = 'keepalive.ping';
export const KEEPALIVE_PONG = 'keepalive.pong';

/**
 * Why keepalive closed a connection: the peer stopped answering (a dead link or a hung peer),
 * as opposed to a peer that hung up. Callers that treat a silent link differently (a paused
 * post-copy migration) look for this class among close reasons.
 */
export class KeepaliveTimeoutError extends FerryError {
  override readonly name = 'KeepaliveTimeoutError';
  constructor(peer: string, count: number) {
    super(
      'CONNECT_FAILED',
      `Connection with ${peer} closed due to keepalive timeout (no reply to ${count} pings)`,
    );
  }
}

export interface KeepaliveOptions {
  /** Idle time before a ping is sent, and between pings (ms). */
  intervalMs: number;
  /** Unanswered pings tolerated; the peer is declared dead after (count + 1) × intervalMs. */
  count: number;
}

/**
 * Starts keepalive on a transport; returns a function that stops it (it also stops on close).
 * Precondition: intervalMs > 0 and count >= 1; the peer answers keepalive.ping.
 */
export function startKeepalive(transport: Transport, options: KeepaliveOptions): () => void {
  const { intervalMs, count } = options;
  if (!(intervalMs > 0) || !Number.isInteger(count) || count < 1) {
    throw new FerryError('INVALID_ARG', `Invalid keepalive settings: ${JSON.stringify(options)}`);
  }
  let lastHeard = Date.now();
  let unanswered = 0;
  const offMessage = transport.onMessage(() => {
    // Any traffic proves the peer alive, so a busy connection never needs pings.
    lastHeard = Date.now();
    unanswered = 0;
  });
  const timer = setInterval(() => {
    if (Date.now() - lastHeard < intervalMs) return;
    if (unanswered >= count) {
      stop();
      transport.close(new KeepaliveTimeoutError(transport.peer, count));
      return;
    }
    unanswered++;
    transport.send(makeNotification(KEEPALIVE_PING));
  }, intervalMs);
  // Keepalive alone must not keep the process running.
  timer.unref();
  const offClose = transport.onClose(() => {
    stop();
  });
  function stop(): void {
    clearInterval(timer);
    offMessage();
    offClose();
  }
  return stop;
}

/**
 * Handles keepalive traffic: answers a ping with a pong. Returns true if `msg` was a
 * keepalive message (and so must not be dispatched further).
 */
export function handleKeepalive(transport: Transport, msg: IncomingMessage): boolean {
  if (msg.kind !== 'notification') return false;
  if (msg.method === KEEPALIVE_PING) {
    transport.send(makeNotification(KEEPALIVE_PONG));
    return true;
  }
  return msg.method === KEEPALIVE_PONG;
}
