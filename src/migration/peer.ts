/**
 * The source ferryd's connection to the destination ferryd, through the URI the user gave
 * (peer to peer: the CLI is not in the path).
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import { connectUri, type KeepaliveOptions, type RpcClient } from '../rpc/index.js';
import { METHODS, type Methods } from '../rpc/methods.js';

export type PeerClient = RpcClient<Methods>;

/**
 * Connects to the ferryd named by `uri` (unix or tcp; tls and ssh come with the remote
 * transports issue). A bad or unsupported URI fails as such; only an unreachable ferryd
 * becomes "Cannot reach destination URI: …". With `keepalive`, a destination that stops
 * answering (hung, stopped) closes the connection.
 */
export async function connectPeer(uri: string, keepalive?: KeepaliveOptions): Promise<PeerClient> {
  const parsed = parseConnectionUri(uri);
  try {
    return await connectUri(parsed, METHODS, {
      timeoutMs: 60_000,
      ...(keepalive === undefined ? {} : { keepalive }),
    });
  } catch (err) {
    if (err instanceof FerryError && err.code !== 'CONNECT_FAILED') throw err;
    throw new FerryError('CONNECT_FAILED', `Cannot reach destination ${uri}: ${messageOf(err)}`, {
      cause: err,
    });
  }
}
