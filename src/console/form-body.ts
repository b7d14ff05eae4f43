/**
 * Reading a small form POST (application/x-www-form-urlencoded) with a hard size limit, so a
 * client cannot make ferryd buffer without bound before it is signed in.
 * @module
 */
import type { IncomingMessage } from 'node:http';

/** The sign-in and sign-out forms are tiny; anything bigger is refused. */
export const MAX_FORM_BYTES = 8 * 1024;

/** Why a form could not be read, with the HTTP status that says so. */
export class FormError extends Error {
  constructor(
    readonly status: 413 | 415 | 400,
    message: string,
  ) {
    super(message);
  }
}

/** The fields of a form POST; rejects with a FormError (wrong type, too big, cut short). */
export async function readForm(
  req: IncomingMessage,
  maxBytes = MAX_FORM_BYTES,
): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw new FormError(415, 'Expected a form (application/x-www-form-urlencoded)');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new FormError(413, `Form larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new FormError(413, `Form larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
