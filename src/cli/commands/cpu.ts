/**
 * capabilities, domcapabilities, [hypervisor-]cpu-baseline, [hypervisor-]cpu-compare: virsh's
 * CPU commands (RHEL 8 10.7's procedure). The FILE is read here and its text sent to ferryd,
 * which decodes it against its CPU map and this host's QEMU.
 * @module
 */
import { readFileSync } from 'node:fs';
import { CommanderError, Option, type Command } from 'commander';
import { messageOf } from '../../common/errors.js';
import type { CommandContext } from '../context.js';

const VIRT_TYPES = ['qemu', 'kvm'] as const;

function readCpuFile(
  positional: string | undefined,
  opts: { file?: string },
): { xml: string; fileName: string } {
  const fileName = opts.file ?? positional;
  if (fileName === undefined || fileName === '')
    throw new Error("command requires the option '--file <string>'");
  try {
    return { xml: readFileSync(fileName, 'utf8'), fileName };
  } catch (err) {
    throw new Error(`Failed to read file '${fileName}': ${messageOf(err)}`, { cause: err });
  }
}

interface BaselineOpts {
  file?: string;
  features?: boolean;
  migratable?: boolean;
  virttype?: 'qemu' | 'kvm';
  arch?: string;
  machine?: string;
}

interface CompareOpts {
  file?: string;
  error?: boolean;
  virttype?: 'qemu' | 'kvm';
}

function fileCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('[file]', 'file containing XML CPU descriptions')
    .addOption(new Option('--file <file>', 'file containing XML CPU descriptions'));
}

function hypervisorOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--virttype <type>', 'virtualization type').choices(VIRT_TYPES))
    .option('--emulator <path>', 'path to emulator binary (ferryd uses its qemu_binary)')
    .option('--arch <arch>', 'CPU architecture (x86_64)')
    .option('--machine <machine>', 'machine type');
}

export function registerCpu(program: Command, ctx: CommandContext): void {
  program
    .command('capabilities')
    .description('capabilities: the host CPU, NUMA cells and the guests this host can run')
    .action(async () => {
      const { xml } = await (await ctx.connect()).call('host.capabilities', {});
      ctx.out(`${xml}\n`);
    });

  program
    .command('domcapabilities')
    .description('domain capabilities: CPU modes and models a guest can use here')
    .addOption(new Option('--virttype <type>', 'virtualization type').choices(VIRT_TYPES))
    .option('--emulatorbin <path>', 'path to emulator binary (ferryd uses its qemu_binary)')
    .option('--arch <arch>', 'domain architecture (x86_64)')
    .option('--machine <machine>', 'machine type')
    .action(async (opts: { virttype?: 'qemu' | 'kvm'; arch?: string; machine?: string }) => {
      const { xml } = await (
        await ctx.connect()
      ).call('host.domcapabilities', {
        ...(opts.virttype === undefined ? {} : { virttype: opts.virttype }),
        ...(opts.arch === undefined ? {} : { arch: opts.arch }),
        ...(opts.machine === undefined ? {} : { machine: opts.machine }),
      });
      ctx.out(`${xml}\n`);
    });

  const baseline =
    (hypervisor: boolean) => async (file: string | undefined, opts: BaselineOpts) => {
      const input = readCpuFile(file, opts);
      const { xml } = await (
        await ctx.connect()
      ).call('cpu.baseline', {
        ...input,
        hypervisor,
        features: opts.features === true,
        migratable: opts.migratable === true,
        ...(opts.virttype === undefined ? {} : { virttype: opts.virttype }),
        ...(opts.arch === undefined ? {} : { arch: opts.arch }),
        ...(opts.machine === undefined ? {} : { machine: opts.machine }),
      });
      ctx.out(`${xml}\n`);
    };
  hypervisorOptions(
    fileCommand(
      program,
      'hypervisor-cpu-baseline',
      'compute baseline CPU usable by a specific hypervisor',
    ),
  )
    .option('--features', 'Show features that are part of the CPU model type')
    .option('--migratable', 'Do not include features that block migration')
    .action(baseline(true));
  fileCommand(program, 'cpu-baseline', 'compute baseline CPU')
    .option('--features', 'Show features that are part of the CPU model type')
    .option('--migratable', 'Do not include features that block migration')
    .action(baseline(false));

  const compare = (hypervisor: boolean) => async (file: string | undefined, opts: CompareOpts) => {
    const input = readCpuFile(file, opts);
    const out = await (
      await ctx.connect()
    ).call('cpu.compare', {
      ...input,
      hypervisor,
      ...(opts.virttype === undefined ? {} : { virttype: opts.virttype }),
    });
    const f = input.fileName;
    const host = hypervisor ? 'the CPU provided by hypervisor on the host' : 'host CPU';
    const Host = hypervisor ? 'The CPU provided by hypervisor on the host' : 'Host CPU';
    if (out.result === 'incompatible') {
      if (opts.error === true) {
        throw new Error(`the CPU is incompatible with host CPU: ${out.message ?? ''}`);
      }
      ctx.out(`CPU described in ${f} is incompatible with ${host}\n\n`);
      // virsh exits 1 here having said all there is: a silent CommanderError does that.
      throw new CommanderError(1, 'ferry.cpuIncompatible', '');
    }
    ctx.out(
      out.result === 'identical'
        ? `CPU described in ${f} is identical to ${host}\n\n`
        : `${Host} is a superset of CPU described in ${f}\n\n`,
    );
  };
  hypervisorOptions(
    fileCommand(
      program,
      'hypervisor-cpu-compare',
      'compare a CPU with the CPU created by a hypervisor on the host',
    ),
  )
    .option('--error', 'report error if CPUs are incompatible')
    .action(compare(true));
  fileCommand(program, 'cpu-compare', 'compare host CPU with a CPU described by an XML file')
    .option('--error', 'report error if CPUs are incompatible')
    .action(compare(false));
}
