/**
 * The accounts file (ferryd.conf `auth_users_file`, default /etc/ferry/users): who may log in
 * over an authenticating listener, one `USER:SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`
 * line each (PostgreSQL's verifier format), `#` comments allowed. Passwords are never stored.
 * ferryd reads the file at each login, so edits apply without a restart; `ferry auth-add`,
 * `auth-remove` and `auth-list` manage it, and the web console signs users in with
 * {@link verifyPassword}.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';
import {
  DEFAULT_SCRAM_ITERATIONS,
  checkPassword,
  formatVerifier,
  makeVerifier,
  parseVerifier,
  type ScramVerifier,
} from './scram.js';

export const DEFAULT_ACCOUNTS_FILE = '/etc/ferry/users';
const MAX_USER_LENGTH = 256;

/** Why `user` cannot be an account name, or undefined when it can. */
export function userNameProblem(user: string): string | undefined {
  if (user === '') return 'must not be empty';
  if (user.length > MAX_USER_LENGTH) return `must be at most ${MAX_USER_LENGTH} characters`;
  // ':' separates the name from the verifier; a leading '#' would read as a comment.
  if (!/^[^\s:#][^\s:]*$/u.test(user)) return "must not contain spaces or ':' nor start with '#'";
  return undefined;
}

function checkUserName(user: string): void {
  const problem = userNameProblem(user);
  if (problem !== undefined)
    throw new FerryError('INVALID_ARG', `Invalid user name '${user}': it ${problem}`);
}

/** Parses the accounts file's text; a bad line is an INVALID_ARG error naming FILE:LINE. */
export function parseAccounts(text: string, file: string): Map<string, ScramVerifier> {
  const accounts = new Map<string, ScramVerifier>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const colon = line.indexOf(':');
    const user = colon < 0 ? '' : line.slice(0, colon);
    const problem = colon < 0 ? 'expected USER:SCRAM-SHA-256$…' : userNameProblem(user);
    if (problem !== undefined)
      throw new FerryError('INVALID_ARG', `Malformed account at ${where}: ${problem}`);
    if (accounts.has(user))
      throw new FerryError(
        'INVALID_ARG',
        `Malformed account at ${where}: '${user}' is listed twice`,
      );
    try {
      accounts.set(user, parseVerifier(line.slice(colon + 1)));
    } catch (err) {
      throw new FerryError(
        'INVALID_ARG',
        `Malformed account at ${where}: ${(err as Error).message}`,
      );
    }
  });
  return accounts;
}

async function readText(file: string, missingOk: boolean): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot read accounts file '${file}': ${describeErrno(err)}`,
      { cause: err },
    );
  }
}

/** All accounts in `file`; fails (SYSTEM_ERROR, INVALID_ARG) when it is missing or malformed. */
export async function readAccounts(file: string): Promise<Map<string, ScramVerifier>> {
  return parseAccounts(await readText(file, false), file);
}

// A decoy for unknown users, so that checking one takes as long as checking a real one.
let decoy: ScramVerifier | undefined;

/**
 * True when `password` is `user`'s in the accounts file. Unknown users and wrong passwords
 * both give false (after the same work); a missing or malformed file is an error, since that
 * is the administrator's problem and not a wrong password.
 */
export async function verifyPassword(
  user: string,
  password: string,
  options: { file?: string } = {},
): Promise<boolean> {
  const accounts = await readAccounts(options.file ?? DEFAULT_ACCOUNTS_FILE);
  const verifier = accounts.get(user);
  decoy ??= makeVerifier(randomBytes(16).toString('base64'));
  const ok = await checkPassword(verifier ?? decoy, password);
  return ok && verifier !== undefined;
}

/** Writes `text` to `file` atomically (temp file, fsync, rename), mode 0600. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot write accounts file '${file}': ${describeErrno(err)}`,
      { cause: err },
    );
  }
}

/** The file's lines with `user`'s line dropped (other lines, comments included, kept as they are). */
function withoutUser(text: string, user: string): { lines: string[]; found: boolean } {
  let found = false;
  const lines = text.split('\n').filter((raw) => {
    const line = raw.trim();
    const mine = !line.startsWith('#') && line.slice(0, line.indexOf(':')) === user;
    if (mine) found = true;
    return !mine;
  });
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return { lines, found };
}

/**
 * Adds `user` with `password` to `file` (created, mode 0600, if missing), or changes the
 * password of an existing account. Returns whether the account was new. The file must parse
 * first: a broken file is reported, not silently rewritten.
 */
export async function addAccount(
  file: string,
  user: string,
  password: string,
  iterations = DEFAULT_SCRAM_ITERATIONS,
): Promise<{ added: boolean }> {
  checkUserName(user);
  if (password === '') throw new FerryError('INVALID_ARG', 'The password must not be empty');
  const text = await readText(file, true);
  parseAccounts(text, file);
  const { lines, found } = withoutUser(text, user);
  lines.push(`${user}:${formatVerifier(makeVerifier(password, { iterations }))}`);
  await writeAtomically(file, lines.join('\n') + '\n');
  return { added: !found };
}

/** Removes `user` from `file`; an account that is not there is an INVALID_ARG error. */
export async function removeAccount(file: string, user: string): Promise<void> {
  const text = await readText(file, false);
  parseAccounts(text, file);
  const { lines, found } = withoutUser(text, user);
  if (!found) throw new FerryError('INVALID_ARG', `No account '${user}' in '${file}'`);
  await writeAtomically(file, lines.length === 0 ? '' : lines.join('\n') + '\n');
}

/** The account names in `file`, in file order (none when the file does not exist). */
export async function listAccounts(file: string): Promise<string[]> {
  return [...parseAccounts(await readText(file, true), file).keys()];
}

/**
 * What is wrong with the accounts file for a daemon about to require logins, or undefined:
 * missing (nobody can log in yet) or readable by others (verifiers allow offline guessing).
 */
export async function accountsFileProblem(file: string): Promise<string | undefined> {
  try {
    const { mode } = await stat(file);
    if ((mode & 0o077) !== 0)
      return `accounts file '${file}' is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`;
    return undefined;
  } catch (err) {
    return `accounts file '${file}' cannot be read (${describeErrno(err)}): nobody can log in until 'ferry auth-add' creates it`;
  }
}
