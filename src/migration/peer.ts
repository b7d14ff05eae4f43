/**
 * The source ferryd's connection to the destination ferryd, through the URI the user gave
 * (peer to peer: the CLI is not in the path).
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import {
  connectRpc,
  defaultSocketPath,
  type KeepaliveOptions,
  type RpcClient,
} from '../rpc/index.js';
import { METHODS, type Methods } from '../rpc/methods.js';

export type PeerClient = RpcClient<Methods>;

/**
 * Connects to the ferryd named by `uri`; transports other than unix come with issue #4.
 * With `keepalive`, a destination that stops answering (hung, stopped) closes the connection.
 */
export async function connectPeer(uri: string, keepalive?: KeepaliveOptions): Promise<PeerClient> {
  const parsed = parseConnectionUri(uri);
  if (parsed.transport !== 'unix') {
    throw new FerryError(
      'NO_SUPPORT',
      `Transport '${parsed.transport}' of URI '${uri}' is not supported yet; use qemu+unix:///system?socket=PATH`,
    );
  }
  const socket = parsed.params['socket'] ?? defaultSocketPath(`/${parsed.path}`);
  try {
    return await connectRpc(socket, METHODS, {
      timeoutMs: 60_000,
      ...(keepalive === undefined ? {} : { keepalive }),
    });
  } catch (err) {
    throw new FerryError('CONNECT_FAILED', `Cannot reach destination ${uri}: ${messageOf(err)}`, {
      cause: err,
    });
  }
}
