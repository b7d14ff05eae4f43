/**
 * `ferry fleet add URI…`, `fleet list [--json]`, `fleet remove HOST…`: the hosts fleet plans
 * place guests across (the web console's hosts), kept by the ferryd the CLI talks to.
 * @module
 */
import type { Command } from 'commander';
import type { z } from 'zod';
import type { Methods } from '../../rpc/methods.js';
import type { CommandContext } from '../context.js';
import { formatTable } from '../format/table.js';
import { formatKiB } from '../format/plan.js';

type MembersAnswer = z.output<Methods['fleet.members']['result']>;

/** The `fleet list` table, then the unreachable hosts with why. */
export function formatMembers(answer: MembersAnswer): string {
  const rows = answer.members.map((m) => {
    const c = m.capacity;
    const running = c.guests.filter((g) => g.state !== 'shut off').length;
    return [
      c.hostname,
      m.uri,
      String(c.cpus),
      c.load1.toFixed(2),
      formatKiB(c.memoryKiB),
      formatKiB(c.freeMemoryKiB),
      c.cpuModel,
      `${running} running, ${c.guests.length - running} shut off`,
    ];
  });
  let text = formatTable(
    ['Host', 'URI', 'CPUs', 'Load', 'Memory', 'Free', 'CPU model', 'Guests'],
    rows,
  );
  if (answer.unreachable.length > 0)
    text +=
      'Unreachable:\n' +
      answer.unreachable.map((u) => `  ${u.uri} (${u.id}): ${u.error}\n`).join('') +
      '\n';
  return text;
}

export function registerFleetHosts(fleet: Command, ctx: CommandContext): void {
  fleet
    .command('add')
    .description('add hosts to the fleet by URI (each is reached and asked first)')
    .argument('<uri...>', 'ferryd URI of each host, e.g. qemu+tcp://h2/system')
    .action(async (uris: string[]) => {
      const conn = await ctx.connect();
      for (const uri of uris) {
        const { host } = await conn.call('fleet.addHost', { uri });
        ctx.out(`Host ${host.hostname ?? uri} added to the fleet (${host.uri}, id ${host.id})\n`);
      }
    });

  fleet
    .command('list')
    .description("the fleet's members: capacity, CPU model and guests; then unreachable hosts")
    .option('--json', 'print the members as JSON')
    .action(async (opts: { json?: boolean }) => {
      const answer = await (await ctx.connect()).call('fleet.members', {});
      ctx.out(opts.json === true ? `${JSON.stringify(answer, null, 2)}\n` : formatMembers(answer));
    });

  fleet
    .command('remove')
    .description('remove hosts from the fleet (by host name, fleet id or URI)')
    .argument('<host...>', 'host name, fleet id or URI')
    .action(async (refs: string[]) => {
      const conn = await ctx.connect();
      const { hosts } = await conn.call('fleet.hosts', {});
      // Resolve all first: an unknown name removes nothing.
      const ids = refs.map((ref) => {
        const host = hosts.find(
          (h) => h.id !== 'local' && (h.id === ref || h.uri === ref || h.hostname === ref),
        );
        if (host === undefined) throw new Error(`No fleet host '${ref}' (see ferry fleet list)`);
        return { ref, id: host.id };
      });
      for (const { ref, id } of ids) {
        await conn.call('fleet.removeHost', { id });
        ctx.out(`Host ${ref} removed from the fleet\n`);
      }
    });
}
