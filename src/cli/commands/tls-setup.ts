/**
 * tls-setup: a CA and every host's server and client certificates for qemu+tls:// (libvirt's
 * /etc/pki layout) and QEMU's migration TLS, made with openssl; `--install` puts this host's
 * set into /etc/pki. Local work, no connection to ferryd.
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { FerryError } from '../../common/errors.js';
import { SYSTEM_PKI_ROOT } from '../../pki/paths.js';
import { CA_CERT, CA_KEY, createTlsSet, installHostSet, parseHostSpec } from '../../pki/setup.js';
import { parseWholeNumber, type CommandContext } from '../context.js';

interface TlsSetupOpts {
  dir: string;
  days: string;
  force?: boolean;
  install?: string | boolean;
  pkiRoot: string;
}

/** The hosts whose sets are in OUT (every directory but the CA's). */
function hostsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'ca')
    .map((e) => e.name);
}

/** The host `--install` means: the one named, else this machine's name (or its first label). */
function installTarget(install: string | boolean, names: readonly string[]): string {
  if (typeof install === 'string') return install;
  const full = hostname();
  const short = full.split('.')[0] ?? full;
  const match = names.find((n) => n === full) ?? names.find((n) => n === short);
  if (match !== undefined) return match;
  throw new FerryError(
    'INVALID_ARG',
    `This machine is '${full}', which is none of the hosts (${names.join(', ') || 'none given'}); name the host to install: --install HOST`,
  );
}

export function registerTlsSetup(program: Command, ctx: CommandContext): void {
  program
    .command('tls-setup')
    .description('make a CA and TLS certificates for hosts (qemu+tls:// and QEMU migration TLS)')
    .argument('[hosts...]', 'hosts as NAME[,NAME-OR-IP]… (the first name is the CN; all are SANs)')
    .requiredOption('--dir <out>', 'output directory: OUT/ca and OUT/HOST/pki/…')
    .option('--days <n>', 'validity of the host certificates in days', '1095')
    .option('--force', 'replace an existing CA (in OUT, or in /etc/pki with --install)')
    .option('--install [host]', `copy this host's set (or HOST's) into the pki root`)
    .option('--pki-root <dir>', 'where --install writes', SYSTEM_PKI_ROOT)
    .action(async (hostArgs: string[], opts: TlsSetupOpts) => {
      const days = parseWholeNumber(opts.days, '--days', 1, 36500);
      const force = opts.force === true;
      const hosts = hostArgs.map(parseHostSpec);
      if (hosts.length === 0 && opts.install === undefined)
        throw new FerryError('INVALID_ARG', 'Name at least one host (NAME[,IP]…), or --install');
      if (hosts.length > 0) {
        await createTlsSet({ dir: opts.dir, hosts, force, days });
        const lines = [
          `CA certificate: ${join(opts.dir, CA_CERT)} (its key: ${join(opts.dir, CA_KEY)})`,
          ...hosts.map(
            (h) => `${h.name}: ${join(opts.dir, h.name, 'pki')} (${h.altNames.join(', ')})`,
          ),
        ];
        ctx.out(lines.join('\n') + '\n');
      }
      if (opts.install !== undefined) {
        const names = hosts.length > 0 ? hosts.map((h) => h.name) : hostsIn(opts.dir);
        const name = installTarget(opts.install, names);
        const files = await installHostSet(opts.dir, name, opts.pkiRoot, force);
        ctx.out(`Installed ${name}'s certificates: ${files.length} files under ${opts.pkiRoot}\n`);
      }
      ctx.out('\n');
    });
}
