/**
 * Schemas of the link measurement between two ferryds (the preflight's bandwidth check): the
 * destination opens a sink in its incoming-migration port range, the source sends to it.
 * @module
 */
import { z } from 'zod';

const Port = z.number().int().min(1).max(65535);

export const LINK_METHODS = {
  'link.openSink': {
    doc: 'Open a TCP sink on the first free port of the incoming-migration range (49152–49215) at the address a migration stream would use (listenAddress, else the address this connection reached, else all addresses when destHost is given, else loopback). It counts the bytes it receives and closes itself `seconds` + 10 s later. Returns the port and the host the source should send to.',
    params: z.strictObject({
      listenAddress: z.string().min(1).max(255).optional(),
      /** The name the source reached this host by (advertised when listening on all addresses). */
      destHost: z.string().min(1).max(255).optional(),
      seconds: z.number().min(0.1).max(60).default(3),
    }),
    result: z.strictObject({ port: Port, host: z.string() }),
  },
  'link.sinkResult': {
    doc: 'What the sink on `port` received, timed on this side (first to last byte): waits for the sender to close or the sink to time out, then closes the sink.',
    params: z.strictObject({ port: Port }),
    result: z.strictObject({ bytes: z.number().int().min(0), ms: z.number().min(0) }),
  },
} as const;

export type LinkMethodName = keyof typeof LINK_METHODS;
