/**
 * The CLI's connection to a ferryd, chosen by URI (`-c`, FERRY_DEFAULT_URI, qemu:///system).
 * @module
 */
import type { z } from 'zod';
import { lookupCredentials } from '../auth/index.js';
import { parseConnectionUri, type ConnectionUri } from '../common/uri.js';
import { METHODS, NOTIFICATIONS, type MethodName, type Methods } from '../rpc/methods.js';
import {
  connectUri,
  noCredentialsError,
  type CredentialProvider,
  type TypedRpcClient,
} from '../rpc/index.js';
import { canPrompt, promptLine, promptSecret } from './prompt.js';

export interface Connection {
  readonly uri: ConnectionUri;
  call<K extends MethodName>(
    name: K,
    params: z.input<Methods[K]['params']>,
  ): Promise<z.output<Methods[K]['result']>>;
  /** Runs `cb` for each `method` notification ferryd pushes on this connection; returns an unsubscribe. */
  onNotification<K extends NotificationName>(
    method: K,
    cb: (params: z.output<Notifications[K]>) => void,
  ): () => void;
  close(): void;
}

type Notifications = typeof NOTIFICATIONS;
/** A notification ferryd may push (see NOTIFICATIONS in rpc/methods.ts). */
export type NotificationName = keyof Notifications;

/** The URI a command talks to when `-c` is not given. */
export function defaultUri(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['FERRY_DEFAULT_URI'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'qemu:///system';
}

/**
 * Credentials as virsh finds them: the auth files first, then (on a terminal) a prompt for
 * whatever they did not give; with no terminal, an error saying where to put them.
 */
export const cliCredentials: CredentialProvider = async (request) => {
  const found = lookupCredentials(request.host, request.user, { authfile: request.authfile });
  if (found.user !== undefined && found.password !== undefined)
    return { user: found.user, password: found.password };
  if (!canPrompt())
    throw noCredentialsError(request.host, found.file ?? '~/.config/ferry/auth.conf');
  const user = found.user ?? (await promptLine('Please enter your authentication name: '));
  const password = found.password ?? (await promptSecret('Please enter your password: '));
  return { user, password };
};

/**
 * Opens a connection over unix, tcp or tls (ssh is refused with NO_SUPPORT for now), logging
 * in when the server asks; `warn` shows warnings such as no_verify=1's.
 */
export async function openConnection(
  text: string,
  warn: (line: string) => void = (line) => process.stderr.write(line),
): Promise<Connection> {
  const uri = parseConnectionUri(text);
  const client: TypedRpcClient<Methods> = await connectUri(uri, METHODS, {
    credentials: cliCredentials,
    onWarning: (message) => warn(`warning: ${message}\n`),
  });
  return {
    uri,
    call: (name, params) => client.call(name, params),
    onNotification: (method, cb) =>
      client.onNotification(method, (raw) => {
        // Checked like results are: a malformed notification is dropped rather than trusted.
        const parsed = NOTIFICATIONS[method].safeParse(raw);
        if (parsed.success) cb(parsed.data as Parameters<typeof cb>[0]);
      }),
    close: () => client.close(),
  };
}
