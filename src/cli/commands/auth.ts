/**
 * auth-add, auth-remove, auth-list: the accounts file ferryd checks logins against (what
 * saslpasswd2 is to libvirtd). Local file edits, no connection to ferryd: it reads the file
 * at each login, so a change applies at once.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import {
  DEFAULT_ACCOUNTS_FILE,
  addAccount,
  listAccounts,
  removeAccount,
} from '../../auth/index.js';
import { FerryError } from '../../common/errors.js';
import type { CommandContext } from '../context.js';
import { canPrompt, promptSecret, readStdin } from '../prompt.js';

interface FileOpts {
  file?: string;
}

const FILE_HELP = `accounts file (ferryd.conf auth_users_file; default ${DEFAULT_ACCOUNTS_FILE})`;

/** A password to use as is: 24 characters from 144 random bits, URL- and shell-safe. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** The new password: typed twice on a terminal, or everything piped to stdin. */
async function readNewPassword(): Promise<string> {
  if (!canPrompt()) return readStdin();
  const first = await promptSecret('New password: ');
  const again = await promptSecret('Retype new password: ');
  if (first !== again)
    throw new FerryError('INVALID_ARG', 'The two passwords differ; nothing changed');
  return first;
}

export function registerAuth(program: Command, ctx: CommandContext): void {
  program
    .command('auth-add')
    .description(
      'add an account (or change its password) for logins over qemu+tcp:// and qemu+tls://',
    )
    .argument('<user>', 'user name')
    .option('--file <path>', FILE_HELP)
    .option('--generate', 'make up a random password and print it instead of reading one')
    .action(async (user: string, opts: FileOpts & { generate?: boolean }) => {
      const file = opts.file ?? DEFAULT_ACCOUNTS_FILE;
      const password = opts.generate === true ? generatePassword() : await readNewPassword();
      const { added } = await addAccount(file, user, password);
      const what = `Account '${user}' ${added ? 'added to' : 'updated in'} ${file}`;
      if (opts.generate === true) {
        // stdout carries only the password, so a script can capture it.
        ctx.err(`${what}; its password:\n`);
        ctx.out(`${password}\n`);
      } else {
        ctx.out(`${what}\n\n`);
      }
    });

  program
    .command('auth-remove')
    .description('remove an account')
    .argument('<user>', 'user name')
    .option('--file <path>', FILE_HELP)
    .action(async (user: string, opts: FileOpts) => {
      const file = opts.file ?? DEFAULT_ACCOUNTS_FILE;
      await removeAccount(file, user);
      ctx.out(`Account '${user}' removed from ${file}\n\n`);
    });

  program
    .command('auth-list')
    .description('list the accounts')
    .option('--file <path>', FILE_HELP)
    .action(async (opts: FileOpts) => {
      const users = await listAccounts(opts.file ?? DEFAULT_ACCOUNTS_FILE);
      ctx.out(users.map((u) => `${u}\n`).join(''));
    });
}
