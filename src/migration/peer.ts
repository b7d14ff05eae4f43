/**
 * The source ferryd's connection to the destination ferryd, through the URI the user gave
 * (peer to peer: the CLI is not in the path).
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import { SYSTEM_AUTH_FILE } from '../auth/index.js';
import {
  connectUri,
  fileCredentials,
  type KeepaliveOptions,
  type RpcClient,
} from '../rpc/index.js';
import { METHODS, type Methods } from '../rpc/methods.js';

export type PeerClient = RpcClient<Methods>;

export interface ConnectPeerOptions {
  /** Pings the destination so one that stops answering (hung, stopped) closes the connection. */
  keepalive?: KeepaliveOptions | undefined;
  /** Receives warnings for the log (e.g. that `no_verify=1` skips the certificate checks). */
  onWarning?: ((text: string) => void) | undefined;
  /** What the peer is to this ferryd, for error messages (default `destination`). */
  role?: string;
}

/**
 * Connects to the ferryd named by `uri` (unix, tcp, tls or ssh), logging in with
 * the credentials of the auth files (as root: /etc/ferry/auth.conf) when it asks. A bad or
 * unsupported URI fails as such; an unreachable ferryd becomes "Cannot reach destination
 * URI: …" and a refused login or certificate "Cannot log in to destination URI: …".
 */
export async function connectPeer(
  uri: string,
  options: ConnectPeerOptions = {},
): Promise<PeerClient> {
  const parsed = parseConnectionUri(uri);
  const { keepalive, onWarning, role = 'destination' } = options;
  try {
    return await connectUri(parsed, METHODS, {
      timeoutMs: 60_000,
      credentials: fileCredentials(
        process.getuid?.() === 0 ? SYSTEM_AUTH_FILE : '~/.config/ferry/auth.conf',
      ),
      ...(keepalive === undefined ? {} : { keepalive }),
      ...(onWarning === undefined ? {} : { onWarning }),
    });
  } catch (err) {
    if (err instanceof FerryError && err.code === 'AUTH_FAILED')
      throw new FerryError('AUTH_FAILED', `Cannot log in to ${role} ${uri}: ${err.message}`, {
        cause: err,
      });
    if (err instanceof FerryError && err.code !== 'CONNECT_FAILED') throw err;
    throw new FerryError('CONNECT_FAILED', `Cannot reach ${role} ${uri}: ${messageOf(err)}`, {
      cause: err,
    });
  }
}
