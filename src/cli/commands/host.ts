/**
 * version, uri, hostname: what the connection is talking to.
 * @module
 */
import type { Command } from 'commander';
import { FERRY_VERSION } from '../../common/version.js';
import type { CommandContext } from '../context.js';
import { withContext } from '../errors.js';

export function registerHost(program: Command, ctx: CommandContext): void {
  program
    .command('version')
    .description('show version')
    .action(async () => {
      const info = await withContext('failed to get the hypervisor version', async () =>
        (await ctx.connect()).call('host.info', {}),
      );
      const lines = [
        `Compiled against library: ferry ${FERRY_VERSION}`,
        `Using library: ferry ${FERRY_VERSION}`,
        `Using API: QEMU ${info.ferryVersion}`,
      ];
      if (info.hypervisor !== null)
        lines.push(`Running hypervisor: ${info.hypervisor.name} ${info.hypervisor.version}`);
      ctx.out(lines.join('\n') + '\n\n');
    });

  program
    .command('uri')
    .description('print the hypervisor canonical URI')
    .action(async () => {
      await ctx.connect();
      ctx.out(`${ctx.uri}\n\n`);
    });

  program
    .command('hostname')
    .description('print the hypervisor hostname')
    .action(async () => {
      const info = await withContext('failed to get hostname', async () =>
        (await ctx.connect()).call('host.info', {}),
      );
      ctx.out(`${info.hostname}\n\n`);
    });
}
