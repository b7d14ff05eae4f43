/**
 * The link.* RPC methods: the destination side of the preflight's link measurement (see
 * src/preflight/link.ts). Sinks live until their result is read or their lifetime ends.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { openLinkSink, type LinkSink } from '../preflight/link.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { LinkMethodName } from '../rpc/schema/link.js';
import type { ConnectionState } from './handlers.js';

type LinkHandlers = Pick<Handlers<Methods, ConnectionState>, LinkMethodName>;

/** A sink outlives the sender's time by this much, then closes itself. */
const SINK_GRACE_MS = 10_000;

export function createLinkHandlers(): LinkHandlers {
  const sinks = new Map<number, LinkSink>();
  return {
    'link.openSink': async (p, ctx) => {
      // The address a migration stream would come to (as migration.prepare picks it).
      const listen =
        p.listenAddress ??
        ctx.connection.state.localAddress ??
        (p.destHost === undefined ? undefined : '0.0.0.0');
      const sink = await openLinkSink(listen, { lifetimeMs: p.seconds * 1000 + SINK_GRACE_MS });
      sinks.set(sink.port, sink);
      // Nobody asks for the result of a measurement whose source went away: close with it.
      ctx.onClose(() => {
        if (sinks.get(sink.port) === sink) {
          sinks.delete(sink.port);
          sink.close();
        }
      });
      return { port: sink.port, host: sink.host };
    },
    'link.sinkResult': async (p) => {
      const sink = sinks.get(p.port);
      if (sink === undefined)
        throw new FerryError('INVALID_ARG', `No link measurement sink on port ${p.port}`);
      try {
        return await sink.result();
      } finally {
        sinks.delete(p.port);
      }
    },
  };
}
