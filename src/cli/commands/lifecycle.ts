/**
 * define, undefine, create, start, shutdown, destroy, suspend, resume, reboot, inject-nmi.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FerryError } from '../../common/errors.js';
import { describeErrno } from '../../common/node/errno.js';
import { domainArg, domainCommand, parseWholeNumber, type CommandContext } from '../context.js';
import { withContext, withDomainLookup } from '../errors.js';

/** Reads an XML file named on the command line, with virsh's wording when it cannot. */
export function readXmlFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FerryError('INVALID_ARG', `Failed to open file '${file}': ${describeErrno(err)}`);
  }
}

function printWarnings(ctx: CommandContext, warnings: readonly string[]): void {
  for (const w of warnings) ctx.err(`warning: ${w}\n`);
}

type DomainOpts = { domain?: string };

export function registerLifecycle(program: Command, ctx: CommandContext): void {
  program
    .command('define')
    .description("define (but don't start) a domain from an XML file")
    .argument('[file]', 'file containing an XML domain description')
    .option('--file <file>', 'file containing an XML domain description')
    .action(async (pos: string | undefined, opts: { file?: string }) => {
      const file = opts.file ?? pos;
      if (file === undefined) throw new Error("command 'define' requires <file> option");
      const res = await withContext(`Failed to define domain from ${file}`, async () => {
        const xml = readXmlFile(file);
        return (await ctx.connect()).call('domain.define', { xml });
      });
      printWarnings(ctx, res.warnings);
      ctx.out(`Domain '${res.name}' defined from ${file}\n\n`);
    });

  program
    .command('create')
    .description('create a domain from an XML file')
    .argument('[file]', 'file containing an XML domain description')
    .option('--file <file>', 'file containing an XML domain description')
    .option('--paused', 'leave the guest paused after creation')
    .action(async (pos: string | undefined, opts: { file?: string; paused?: boolean }) => {
      const file = opts.file ?? pos;
      if (file === undefined) throw new Error("command 'create' requires <file> option");
      const res = await withContext(`Failed to create domain from ${file}`, async () => {
        const xml = readXmlFile(file);
        return (await ctx.connect()).call('domain.create', { xml, paused: opts.paused === true });
      });
      printWarnings(ctx, res.warnings);
      ctx.out(`Domain '${res.name}' created from ${file}\n\n`);
    });

  domainCommand(program, 'undefine', 'undefine a domain').action(
    async (pos: string | undefined, opts: DomainOpts) => {
      const domain = domainArg(pos, opts);
      const res = await withContext(`Failed to undefine domain '${domain}'`, async () =>
        (await ctx.connect()).call('domain.undefine', { domain }),
      );
      ctx.out(`Domain '${res.name}' has been undefined\n\n`);
    },
  );

  domainCommand(
    program,
    'start',
    'start a (previously defined) inactive domain',
    'name of the inactive domain',
  )
    .option('--paused', 'leave the guest paused after start')
    .action(async (pos: string | undefined, opts: DomainOpts & { paused?: boolean }) => {
      const domain = domainArg(pos, opts);
      const res = await withContext(`Failed to start domain '${domain}'`, async () =>
        (await ctx.connect()).call('domain.start', { domain, paused: opts.paused === true }),
      );
      ctx.out(`Domain '${res.name}' started\n\n`);
    });

  domainCommand(program, 'shutdown', 'gracefully shutdown a domain (ACPI power button)')
    .option('--wait <seconds>', 'wait until the guest is off, failing after this many seconds')
    .action(async (pos: string | undefined, opts: DomainOpts & { wait?: string }) => {
      const domain = domainArg(pos, opts);
      const waitSeconds =
        opts.wait === undefined ? undefined : parseWholeNumber(opts.wait, 'wait', 1);
      const res = await withContext(`Failed to shutdown domain '${domain}'`, async () =>
        (await ctx.connect()).call(
          'domain.shutdown',
          waitSeconds === undefined ? { domain } : { domain, waitSeconds },
        ),
      );
      ctx.out(
        waitSeconds === undefined
          ? `Domain '${res.name}' is being shutdown\n\n`
          : `Domain '${res.name}' is shut off\n\n`,
      );
    });

  const simple = [
    ['destroy', 'destroy (stop) a domain', 'domain.destroy', 'destroy', 'destroyed'],
    ['suspend', 'suspend a domain', 'domain.suspend', 'suspend', 'suspended'],
    ['resume', 'resume a domain', 'domain.resume', 'resume', 'resumed'],
    ['reboot', 'reboot a domain', 'domain.reboot', 'reboot', 'is being rebooted'],
  ] as const;
  for (const [name, description, method, verb, done] of simple) {
    domainCommand(program, name, description).action(
      async (pos: string | undefined, opts: DomainOpts) => {
        const domain = domainArg(pos, opts);
        const res = await withContext(`Failed to ${verb} domain '${domain}'`, async () =>
          (await ctx.connect()).call(method, { domain }),
        );
        ctx.out(`Domain '${res.name}' ${done}\n\n`);
      },
    );
  }

  // virsh prints nothing but its blank line here, and on failure only the reason.
  domainCommand(program, 'inject-nmi', 'Inject NMI to the guest').action(
    async (pos: string | undefined, opts: DomainOpts) => {
      const domain = domainArg(pos, opts);
      await withDomainLookup(async () =>
        (await ctx.connect()).call('domain.injectNmi', { domain }),
      );
      ctx.out('\n');
    },
  );
}
