/**
 * ferry: the virsh-compatible command line. A thin client: every command is one or two RPC
 * calls to the ferryd named by `-c URI` (default FERRY_DEFAULT_URI or qemu:///system).
 * @module
 */
import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { FERRY_VERSION } from '../common/version.js';
import { registerAuth } from './commands/auth.js';
import { registerDirtyRate } from './commands/dirty-rate.js';
import { registerCpu } from './commands/cpu.js';
import { registerFleet } from './commands/fleet.js';
import { registerEdit } from './commands/edit.js';
import { registerHost } from './commands/host.js';
import { registerJobs } from './commands/jobs.js';
import { registerLifecycle } from './commands/lifecycle.js';
import { registerMigrate } from './commands/migrate.js';
import { registerQueries } from './commands/query.js';
import { registerPools } from './commands/storage-pools.js';
import { registerVolumes } from './commands/storage-volumes.js';
import { registerTlsSetup } from './commands/tls-setup.js';
import { defaultUri, openConnection, type Connection } from './connection.js';
import type { CommandContext } from './context.js';
import { CommandError, renderError } from './errors.js';

/** Builds the program; `argv` excludes node and the script path. Returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  // zod compiles each object schema into a fast parser the first time it parses one: a few
  // ms per schema that a daemon earns back but a one-shot command never does.
  z.config({ jitless: true });
  let connection: Promise<Connection> | undefined;
  const program = new Command('ferry');
  const ctx: CommandContext = {
    get uri() {
      return program.opts<{ connect?: string }>().connect ?? defaultUri();
    },
    connect: () =>
      (connection ??= openConnection(ctx.uri, (line) => ctx.err(line)).catch((err: unknown) => {
        throw new CommandError('failed to connect to the hypervisor', err);
      })),
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
  program
    .description('Ferry: manage and migrate QEMU/KVM guests (virsh-compatible)')
    .version(FERRY_VERSION, '-v, --version', 'print the version')
    .option('-c, --connect <uri>', 'hypervisor connection URI')
    .configureOutput({
      outputError: (text, write) => write(text.startsWith('error:') ? text : `error: ${text}`),
    })
    .exitOverride()
    .showSuggestionAfterError(true);
  registerLifecycle(program, ctx);
  registerQueries(program, ctx);
  registerEdit(program, ctx);
  registerHost(program, ctx);
  registerMigrate(program, ctx);
  registerJobs(program, ctx);
  registerAuth(program, ctx);
  registerTlsSetup(program, ctx);
  registerPools(program, ctx);
  registerVolumes(program, ctx);
  registerDirtyRate(program, ctx);
  registerCpu(program, ctx);
  registerFleet(program, ctx);
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    process.stderr.write(renderError(err));
    return 1;
  } finally {
    if (connection !== undefined) (await connection.catch(() => undefined))?.close();
  }
}
