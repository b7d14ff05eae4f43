/**
 * ferry-testbed: the testbed from the shell. `up` makes a testbed that outlives the command
 * (removed by `down`, or `cleanup --all`); the other commands act on one by name.
 * @module
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { FerryError, messageOf } from '../common/errors.js';
import { cleanupTestbeds } from './cleanup.js';
import { parseRate } from './shaping.js';
import { createTestbed, listTestbeds, openTestbed, type Testbed } from './testbed.js';

type Out = (text: string) => void;

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a host count');
  return n;
}

/** What `up` prints: the hosts, and how to use and remove the testbed. */
export function describeTestbed(tb: Testbed): string {
  const width = Math.max(...tb.hosts.map((h) => h.name.length));
  const lines = [
    `testbed ${tb.name}: ${tb.hosts.length} ${tb.root ? 'namespace' : 'loopback'} hosts`,
    ...tb.hosts.map(
      (h) =>
        `  ${h.name.padEnd(width)}  ${h.address.padEnd(13)}  ${h.netns === undefined ? h.localUri : `netns ${h.netns}`}`,
    ),
    ...(tb.nfs === undefined
      ? []
      : [`NFS export:    nfs://${tb.nfs.address}${tb.nfs.exportDir}/ (on ${tb.nfs.host})`]),
    `enter a host:  ferry-testbed exec ${tb.name} HOST -- CMD…`,
    ...(tb.root ? [`               ferry-testbed shell ${tb.name} HOST`] : []),
    `remove it:     ferry-testbed down ${tb.name}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs a command in a host with this terminal; resolves to its exit code. */
function interactive(
  tb: Testbed,
  host: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<number> {
  const child = tb.host(host).spawn(argv, { stdio: 'inherit', env });
  return new Promise((resolve, reject) => {
    child.on('error', (err) =>
      reject(new FerryError('SYSTEM_ERROR', `Cannot run '${argv.join(' ')}': ${err.message}`)),
    );
    child.on('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

function register(program: Command, out: Out, setCode: (code: number) => void): void {
  program
    .command('up')
    .description('make a testbed that stays after this command (remove it with down)')
    .argument('[hosts]', 'number of hosts (default 2)', parseCount)
    .option('--name <name>', 'testbed name (default ftb + random hex)')
    .option('--names <list>', 'host names, comma-separated (default h1,h2,…)')
    .option('--rate <rate>', 'shape every host link to RATE (tc tbf), e.g. 80mbit')
    .option('--no-ferryd', 'start no ferryd')
    .option('--no-sshd', 'start no sshd')
    .option('--nfs <host>', 'run a userspace NFS server (NFS-Ganesha) on HOST')
    .option('--nfs-export <dir>', 'the directory it exports (default /srv/nfs)')
    .action(
      async (
        hosts: number | undefined,
        o: {
          name?: string;
          names?: string;
          rate?: string;
          ferryd: boolean;
          sshd: boolean;
          nfs?: string;
          nfsExport?: string;
        },
      ) => {
        // Checked before anything is made: bad input changes nothing.
        if (o.rate !== undefined) parseRate(o.rate);
        const names = o.names?.split(',').map((s) => s.trim());
        if (o.nfsExport !== undefined && o.nfs === undefined)
          throw new FerryError('INVALID_ARG', '--nfs-export needs --nfs HOST');
        const nfs =
          o.nfs === undefined
            ? undefined
            : { host: o.nfs, ...(o.nfsExport === undefined ? {} : { exportDir: o.nfsExport }) };
        const tb = await createTestbed({
          keep: true,
          ferryd: o.ferryd,
          sshd: o.sshd,
          ...(hosts === undefined ? {} : { hosts }),
          ...(names === undefined ? {} : { names }),
          ...(o.name === undefined ? {} : { name: o.name }),
          ...(nfs === undefined ? {} : { nfs }),
        });
        try {
          if (o.rate !== undefined) for (const h of tb.hosts) await h.shape(o.rate);
        } catch (err) {
          await tb.down().catch(() => undefined);
          throw err;
        }
        out(describeTestbed(tb));
      },
    );
  program
    .command('down')
    .description('remove a testbed and everything it made')
    .argument('<name>')
    .action(async (name: string) => openTestbed(name).down());
  program
    .command('list')
    .description('list the testbeds')
    .action(() => {
      for (const rec of listTestbeds()) {
        const owner = rec.owner === 'cli' ? 'cli' : `pid ${rec.owner.pid}`;
        const hosts = rec.hosts.map((h) => `${h.name}=${h.address}`).join(' ');
        out(`${rec.name}  ${rec.namespaces ? 'netns' : 'loopback'}  owner ${owner}  ${hosts}\n`);
      }
    });
  for (const [cmd, what] of [
    ['cut', 'cut a host off the switch (its link goes down, no RST)'],
    ['restore', 'reconnect a cut host'],
  ] as const) {
    program
      .command(cmd)
      .description(what)
      .argument('<name>')
      .argument('<host>')
      .action(async (name: string, host: string) => {
        const h = openTestbed(name).host(host);
        await (cmd === 'cut' ? h.cut() : h.restore());
      });
  }
  program
    .command('shape')
    .description("limit a host's link both ways (tc tbf), or remove the limit with 'off'")
    .argument('<name>')
    .argument('<host>')
    .argument('<rate>', "tc rate such as 80mbit, or 'off'")
    .action(async (name: string, host: string, rate: string) =>
      openTestbed(name)
        .host(host)
        .shape(rate === 'off' ? undefined : rate),
    );
  program
    .command('exec')
    .description('run a command inside a host (its namespaces)')
    .argument('<name>')
    .argument('<host>')
    .argument('<command...>', 'the command, after --')
    .action(async (name: string, host: string, argv: string[]) =>
      setCode(await interactive(openTestbed(name), host, argv)),
    );
  program
    .command('shell')
    .description('an interactive shell inside a host')
    .argument('<name>')
    .argument('<host>')
    .action(async (name: string, host: string) =>
      setCode(
        await interactive(openTestbed(name), host, ['/bin/bash', '--norc', '-i'], {
          PS1: `[${name} ${host}] \\w# `,
        }),
      ),
    );
  program
    .command('cleanup')
    .description('remove testbeds whose owner process ended (--all: every testbed)')
    .option('--all', 'also testbeds made by up, and those whose owner still runs')
    .action(async (o: { all?: boolean }) => {
      const removed = await cleanupTestbeds({ all: o.all === true });
      out(removed.length === 0 ? 'no testbed to remove\n' : `removed ${removed.join(' ')}\n`);
    });
}

/** Runs the CLI; `argv` excludes node and the script path. Returns the exit code. */
export async function runTestbedCli(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = new Command('ferry-testbed')
    .description('Hosts for testing Ferry on one machine: network namespaces with ferryd and sshd')
    .configureOutput({
      outputError: (text, write) => write(text.startsWith('error:') ? text : `error: ${text}`),
    })
    .exitOverride();
  register(
    program,
    (t) => process.stdout.write(t),
    (c) => (code = c),
  );
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    process.stderr.write(`error: ${messageOf(err).split('\n')[0] ?? ''}\n`);
    return 1;
  }
}
