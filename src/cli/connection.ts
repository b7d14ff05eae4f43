/**
 * The CLI's connection to a ferryd, chosen by URI (`-c`, FERRY_DEFAULT_URI, qemu:///system).
 * @module
 */
import type { z } from 'zod';
import { parseConnectionUri, type ConnectionUri } from '../common/uri.js';
import { METHODS, NOTIFICATIONS, type MethodName, type Methods } from '../rpc/methods.js';
import { connectUri, type TypedRpcClient } from '../rpc/index.js';

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

/** Opens a connection over unix or tcp; tls and ssh are refused with NO_SUPPORT for now. */
export async function openConnection(text: string): Promise<Connection> {
  const uri = parseConnectionUri(text);
  const client: TypedRpcClient<Methods> = await connectUri(uri, METHODS);
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
