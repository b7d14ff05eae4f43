/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: the password check on
 * `qemu+tcp://` (and, optionally, `qemu+tls://`). The server keeps only a verifier (salt,
 * iteration count, StoredKey, ServerKey: PostgreSQL's format), so a stolen accounts file does
 * not give away passwords, and the password never crosses the wire. The server proves it
 * knows the verifier too (ServerSignature), so a client cannot be fooled into talking to an
 * impostor that merely accepts every login.
 *
 * ```text
 *   client                                              server
 *     n,,n=USER,r=CNONCE                       ──▶      look up USER's verifier
 *                                              ◀──      r=CNONCE+SNONCE,s=SALT,i=ITER
 *     c=biws,r=CNONCE+SNONCE,p=PROOF           ──▶      H(PROOF xor ClientSignature) = StoredKey?
 *     ServerSignature = v?                     ◀──      v=SERVERSIGNATURE
 * ```
 * @module
 */
import {
  createHash,
  createHmac,
  pbkdf2,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { FerryError } from '../common/errors.js';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
/** RFC 7677's minimum and PostgreSQL's default. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;
/** A server asking for more than this is refused: it would only make the client burn CPU. */
const MAX_SCRAM_ITERATIONS = 10_000_000;
const KEY_BYTES = 32;

/** What the server keeps per user instead of the password. */
export interface ScramVerifier {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

function hmac(key: Buffer, text: string | Buffer): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** Constant-time equality of two buffers (false when the lengths differ). */
function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// RFC 3454 table B.1 (mapped to nothing) and C.1.2 (non-ASCII spaces), the parts of SASLprep
// (RFC 4013) that change real passwords; NFKC does the rest. Code points rather than a regex
// character class: several of them are combining marks.
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const MAPPED_TO_NOTHING = new Set([
  0xad,
  0x34f,
  0x1806,
  ...range(0x180b, 0x180d),
  ...range(0x200b, 0x200d),
  0x2060,
  ...range(0xfe00, 0xfe0f),
  0xfeff,
]);
const NON_ASCII_SPACE = new Set([0xa0, 0x1680, ...range(0x2000, 0x200a), 0x202f, 0x205f, 0x3000]);

/**
 * The password as SCRAM hashes it: SASLprep's mappings and NFKC normalisation, so a
 * password typed with a different Unicode composition still matches. (The prohibited-character
 * checks of SASLprep are left out: refusing a password gains nothing here.)
 */
export function saslPrep(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (MAPPED_TO_NOTHING.has(cp)) continue;
    out += NON_ASCII_SPACE.has(cp) ? ' ' : ch;
  }
  return out.normalize('NFKC');
}

/** RFC 5802's Hi(): PBKDF2-HMAC-SHA-256 of the prepared password. */
function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(saslPrep(password), salt, iterations, KEY_BYTES, 'sha256');
}

function saltedPasswordAsync(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(saslPrep(password), salt, iterations, KEY_BYTES, 'sha256', (err, key) => {
      if (err === null) resolve(key);
      else reject(err);
    });
  });
}

function verifierFromSalted(salted: Buffer, salt: Buffer, iterations: number): ScramVerifier {
  return {
    iterations,
    salt,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/** Makes the verifier of a password (a fresh 16-byte salt unless one is given). */
export function makeVerifier(
  password: string,
  options: { salt?: Buffer; iterations?: number } = {},
): ScramVerifier {
  const salt = options.salt ?? randomBytes(16);
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  return verifierFromSalted(saltedPassword(password, salt, iterations), salt, iterations);
}

/** True when `password` is the one `verifier` was made from (PBKDF2 runs off the event loop). */
export async function checkPassword(verifier: ScramVerifier, password: string): Promise<boolean> {
  const salted = await saltedPasswordAsync(password, verifier.salt, verifier.iterations);
  const candidate = verifierFromSalted(salted, verifier.salt, verifier.iterations);
  // Both compared, always, so the time taken does not say which one differed.
  const storedOk = same(candidate.storedKey, verifier.storedKey);
  const serverOk = same(candidate.serverKey, verifier.serverKey);
  return storedOk && serverOk;
}

/** PostgreSQL's text form: `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>` (base64). */
export function formatVerifier(v: ScramVerifier): string {
  return `${SCRAM_MECHANISM}$${v.iterations}:${v.salt.toString('base64')}$${v.storedKey.toString('base64')}:${v.serverKey.toString('base64')}`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64(text: string, what: string): Buffer {
  if (text === '' || !BASE64.test(text)) throw new Error(`${what} is not base64`);
  return Buffer.from(text, 'base64');
}

/** Parses {@link formatVerifier}'s form; throws an Error saying what is wrong. */
export function parseVerifier(text: string): ScramVerifier {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]*)\$([^:]*):(.*)$/.exec(text);
  if (m === null)
    throw new Error('expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>');
  const [, iter = '', salt = '', stored = '', server = ''] = m;
  const iterations = Number(iter);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS)
    throw new Error(`iteration count ${iter} is out of range`);
  const storedKey = base64(stored, 'StoredKey');
  const serverKey = base64(server, 'ServerKey');
  if (storedKey.length !== KEY_BYTES || serverKey.length !== KEY_BYTES)
    throw new Error(`StoredKey and ServerKey must be ${KEY_BYTES} bytes`);
  return { iterations, salt: base64(salt, 'salt'), storedKey, serverKey };
}

/** A printable nonce without ',' (RFC 5802 forbids it there). */
export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

/** RFC 5802 saslname: ',' and '=' escaped as =2C and =3D. */
function encodeName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function decodeName(text: string): string {
  if (/=(?!2C|3D)/.test(text)) throw new Error('bad escape in user name');
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** Splits `a=1,b=2` into attributes, refusing anything not of that shape. */
function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const m = /^([a-zA-Z])=(.*)$/s.exec(part);
    if (m === null || out.has(m[1] ?? '')) throw new Error(`malformed attribute '${part}'`);
    out.set(m[1] ?? '', m[2] ?? '');
  }
  return out;
}

function protocolError(why: string): FerryError {
  return new FerryError('AUTH_FAILED', `authentication failed: SCRAM protocol error: ${why}`);
}

/** The parts of a client-first-message the server needs. */
export interface ClientFirst {
  readonly user: string;
  readonly clientNonce: string;
  /** The message without its GS2 header: part of the AuthMessage both sides sign. */
  readonly bare: string;
  /** The GS2 header (`n,,` or `y,,`), echoed base64-encoded in the client-final-message. */
  readonly gs2Header: string;
}

/** Parses a client-first-message (server side); throws AUTH_FAILED on anything unexpected. */
export function parseClientFirst(message: string): ClientFirst {
  const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(message);
  if (m === null) throw protocolError('channel binding is not supported; expected "n,,"');
  if (m[2] !== undefined && m[2] !== 'a=') throw protocolError('authzid is not supported');
  const bare = m[3] ?? '';
  try {
    const attrs = attributes(bare);
    const name = attrs.get('n');
    const nonce = attrs.get('r');
    if (name === undefined || name === '' || nonce === undefined || nonce === '')
      throw new Error('expected n=USER,r=NONCE');
    if (attrs.has('m')) throw new Error('extensions are not supported');
    return { user: decodeName(name), clientNonce: nonce, bare, gs2Header: `${m[1] ?? 'n'},,` };
  } catch (err) {
    throw err instanceof FerryError ? err : protocolError((err as Error).message);
  }
}

/**
 * The server's half of one exchange: made from the client-first-message and the user's
 * verifier (a decoy for an unknown user, so the exchange looks the same until the end).
 */
export class ScramServerExchange {
  readonly #first: ClientFirst;
  readonly #verifier: ScramVerifier;
  readonly #nonce: string;
  readonly #serverFirst: string;

  constructor(first: ClientFirst, verifier: ScramVerifier, serverNonce: string = makeNonce()) {
    this.#first = first;
    this.#verifier = verifier;
    this.#nonce = first.clientNonce + serverNonce;
    this.#serverFirst = `r=${this.#nonce},s=${verifier.salt.toString('base64')},i=${verifier.iterations}`;
  }

  /** The server-first-message. */
  get serverFirst(): string {
    return this.#serverFirst;
  }

  /**
   * Checks the client-final-message; returns the server-final-message (`v=…`) when the proof
   * is right and undefined when it is not. Throws AUTH_FAILED on a malformed message.
   */
  finish(clientFinal: string): string | undefined {
    const cut = clientFinal.lastIndexOf(',p=');
    if (cut < 0) throw protocolError('expected c=…,r=…,p=PROOF');
    const withoutProof = clientFinal.slice(0, cut);
    let proof: Buffer;
    let attrs: Map<string, string>;
    try {
      attrs = attributes(withoutProof);
      proof = base64(clientFinal.slice(cut + 3), 'proof');
    } catch (err) {
      throw protocolError((err as Error).message);
    }
    if (attrs.get('c') !== Buffer.from(this.#first.gs2Header).toString('base64'))
      throw protocolError('channel binding data does not match the GS2 header');
    if (attrs.get('r') !== this.#nonce) throw protocolError('nonce does not match');
    const authMessage = `${this.#first.bare},${this.#serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.#verifier.storedKey, authMessage);
    if (proof.length !== KEY_BYTES) return undefined;
    const clientKey = xor(proof, clientSignature);
    if (!same(sha256(clientKey), this.#verifier.storedKey)) return undefined;
    return `v=${hmac(this.#verifier.serverKey, authMessage).toString('base64')}`;
  }
}

/** The client's half of one exchange. */
export class ScramClient {
  readonly #password: string;
  readonly #nonce: string;
  readonly #bare: string;
  #expectedServerSignature: Buffer | undefined;

  constructor(user: string, password: string, clientNonce: string = makeNonce()) {
    this.#password = password;
    this.#nonce = clientNonce;
    this.#bare = `n=${encodeName(user)},r=${clientNonce}`;
  }

  /** The client-first-message. */
  get clientFirst(): string {
    return `n,,${this.#bare}`;
  }

  /** Answers the server-first-message with the client-final-message (the proof). */
  clientFinal(serverFirst: string): string {
    let attrs: Map<string, string>;
    let salt: Buffer;
    try {
      attrs = attributes(serverFirst);
      salt = base64(attrs.get('s') ?? '', 'salt');
    } catch (err) {
      throw protocolError((err as Error).message);
    }
    const nonce = attrs.get('r') ?? '';
    const iterations = Number(attrs.get('i'));
    if (!nonce.startsWith(this.#nonce) || nonce.length <= this.#nonce.length)
      throw protocolError('the server changed the client nonce');
    if (
      !Number.isSafeInteger(iterations) ||
      iterations < DEFAULT_SCRAM_ITERATIONS ||
      iterations > MAX_SCRAM_ITERATIONS
    )
      throw protocolError(`iteration count ${attrs.get('i') ?? '(none)'} is out of range`);
    const salted = saltedPassword(this.#password, salt, iterations);
    const clientKey = hmac(salted, 'Client Key');
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.#bare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
    this.#expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server-final-message: the server must prove it holds this user's verifier. */
  verifyServerFinal(serverFinal: string): void {
    const m = /^v=(.+)$/.exec(serverFinal);
    const expected = this.#expectedServerSignature;
    if (m === null || expected === undefined)
      throw protocolError('expected v=SERVERSIGNATURE after the proof');
    let signature: Buffer;
    try {
      signature = base64(m[1] ?? '', 'server signature');
    } catch (err) {
      throw protocolError((err as Error).message);
    }
    if (!same(signature, expected))
      throw new FerryError(
        'AUTH_FAILED',
        'authentication failed: the server could not prove it knows this account (wrong server?)',
      );
  }
}
