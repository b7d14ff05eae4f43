/**
 * A TLS client's files (CA, certificate, key; see src/pki/paths.ts for where they are looked
 * for) and what to tell the user when the server turns the client away.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';
import type { ClientPkiPaths } from '../pki/paths.js';

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new FerryError('SYSTEM_ERROR', `Cannot read ${what} '${path}': ${describeErrno(err)}`, {
      cause: err,
    });
  }
}

/**
 * Reads the client's files. The CA is required unless the server is not verified; the
 * certificate and key are optional together (a server that requires one then says so) but
 * one without the other is an error naming the missing file.
 */
export function loadClientPki(
  paths: ClientPkiPaths,
  verifyServer: boolean,
): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const ca = verifyServer || existsSync(paths.ca) ? read(paths.ca, 'CA certificate') : undefined;
  const hasCert = existsSync(paths.cert);
  const hasKey = existsSync(paths.key);
  if (hasCert !== hasKey) {
    const missing = hasCert ? paths.key : paths.cert;
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot read client ${hasCert ? 'key' : 'certificate'} '${missing}': No such file or directory`,
    );
  }
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(hasCert ? { cert: read(paths.cert, 'client certificate') } : {}),
    ...(hasKey ? { key: read(paths.key, 'client key') } : {}),
  };
}

/**
 * `err` with where the client certificate was looked for, when the server refused the client
 * for sending none: the likeliest fix is putting one there.
 */
export function explainTlsRefusal(err: unknown, paths: ClientPkiPaths): unknown {
  if (
    err instanceof FerryError &&
    err.code === 'AUTH_FAILED' &&
    err.data?.['reason'] === 'no-certificate' &&
    !existsSync(paths.cert)
  ) {
    return new FerryError(
      'AUTH_FAILED',
      `${err.message} (no client certificate at '${paths.cert}')`,
      {
        cause: err,
        data: err.data,
      },
    );
  }
  return err;
}
