/**
 * The client's side of logging in to a ferryd that asks for it: `auth.list` says whether a
 * login is needed, then one SCRAM-SHA-256 exchange (`auth.start`, `auth.step`) with
 * credentials from a {@link CredentialProvider} (auth.conf, a prompt).
 * @module
 */
import { lookupCredentials } from '../auth/auth-conf.js';
import { SCRAM_MECHANISM, ScramClient } from '../auth/scram.js';
import { FerryError } from '../common/errors.js';
import type { TypedClient } from './client.js';
import type { Methods } from './methods.js';

/** What a login is for: the URI's host, its user (if any) and its `authfile` parameter. */
export interface CredentialRequest {
  readonly host: string;
  readonly user: string | undefined;
  readonly authfile: string | undefined;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** Supplies the credentials for a login, or fails with AUTH_FAILED saying there are none. */
export type CredentialProvider = (request: CredentialRequest) => Promise<Credentials>;

type LoginMethods = Pick<Methods, 'auth.list' | 'auth.start' | 'auth.step'>;

/** The error for a login with nothing to log in with, pointing at the file to fill in. */
export function noCredentialsError(host: string, file: string): FerryError {
  return new FerryError(
    'AUTH_FAILED',
    `authentication failed: no credentials for ${host} (add them to ${file}, see README)`,
  );
}

/**
 * Credentials from the auth files only (see src/auth/auth-conf.ts); `hintFile` is the file
 * the error suggests when there is no auth file at all.
 */
export function fileCredentials(hintFile = '~/.config/ferry/auth.conf'): CredentialProvider {
  return (request) => {
    const found = lookupCredentials(request.host, request.user, { authfile: request.authfile });
    if (found.user === undefined || found.password === undefined)
      return Promise.reject(noCredentialsError(request.host, found.file ?? hintFile));
    return Promise.resolve({ user: found.user, password: found.password });
  };
}

/**
 * Logs `client` in if its server asks for it. A server whose method table has no `auth.list`
 * (or a client table without it) needs no login. Fails with AUTH_FAILED (bad credentials,
 * none to be had, a server that cannot prove it knows the account).
 */
export async function logIn(
  client: TypedClient<LoginMethods>,
  request: CredentialRequest,
  provide: CredentialProvider,
): Promise<void> {
  let mechanisms: readonly string[];
  try {
    ({ mechanisms } = await client.call('auth.list', {}));
  } catch (err) {
    if (err instanceof FerryError && err.code === 'METHOD_NOT_FOUND') return;
    throw err;
  }
  if (mechanisms.length === 0) return;
  if (!mechanisms.includes(SCRAM_MECHANISM))
    throw new FerryError(
      'AUTH_FAILED',
      `authentication failed: the server offers ${mechanisms.join(', ')}, and this client only ${SCRAM_MECHANISM}`,
    );
  const { user, password } = await provide(request);
  const scram = new ScramClient(user, password);
  const first = await client.call('auth.start', {
    mechanism: SCRAM_MECHANISM,
    message: scram.clientFirst,
  });
  const final = await client.call('auth.step', { message: scram.clientFinal(first.message) });
  scram.verifyServerFinal(final.message);
}
