/**
 * edit: the definition in $EDITOR, validated by ferryd on save; on a bad edit the user is
 * asked whether to edit again, as virsh does, and nothing is changed until a define succeeds.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { messageOf } from '../../common/errors.js';
import { domainArg, domainCommand, type CommandContext } from '../context.js';
import { CommandError, withContext } from '../errors.js';

/** Runs the user's editor on a file and waits for it. */
function runEditor(file: string): void {
  const editor = process.env['VISUAL'] ?? process.env['EDITOR'] ?? 'vi';
  // Through the shell, so EDITOR="code --wait" works as with virsh.
  const res = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit' });
  if (res.status !== 0)
    throw new Error(`Editor '${editor}' exited with status ${res.status ?? res.signal ?? '?'}`);
}

async function askRetry(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (;;) {
      const answer = (await rl.question('Failed. Try again? [y,n,?]:')).trim().toLowerCase();
      if (answer === 'y') return true;
      if (answer === 'n' || answer === '') return false;
      process.stderr.write(
        'y - yes, start editor again\nn - no, throw away my changes\n? - print this help\n',
      );
    }
  } finally {
    rl.close();
  }
}

export function registerEdit(program: Command, ctx: CommandContext): void {
  domainCommand(program, 'edit', 'edit XML configuration for a domain').action(
    async (pos: string | undefined, opts: { domain?: string }) => {
      const domain = domainArg(pos, opts);
      const conn = await ctx.connect();
      const { xml } = await withContext(`Failed to get XML of domain '${domain}'`, () =>
        conn.call('domain.getXml', { domain, inactive: true }),
      );
      const dir = mkdtempSync(join(tmpdir(), 'ferry-edit-'));
      const file = join(dir, `${domain}.xml`);
      try {
        writeFileSync(file, xml);
        for (;;) {
          runEditor(file);
          const edited = readFileSync(file, 'utf8');
          if (edited === xml) {
            ctx.out(`Domain '${domain}' XML configuration not changed.\n\n`);
            return;
          }
          try {
            const res = await conn.call('domain.define', { xml: edited });
            ctx.out(`Domain '${res.name}' XML configuration edited.\n\n`);
            return;
          } catch (err) {
            ctx.err(`error: ${messageOf(err)}\n`);
            if (!(await askRetry())) throw new CommandError('Changes not applied', undefined);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
