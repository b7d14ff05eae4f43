/**
 * ferry migrate: virsh's flags → MigrateFlags, then one `migration.start` call that lasts as
 * long as the job, with progress from its `job.progress` notifications and Ctrl-C turned into
 * `job.abort`. ferryd drives the job peer to peer, so it goes on if this process dies.
 * @module
 */
import { createInterface } from 'node:readline';
import { isatty } from 'node:tty';
import { Command } from 'commander';
import { messageOf } from '../../common/errors.js';
import type { MigrateFlags } from '../../rpc/schema/migration.js';
import { domainArg, parseWholeNumber, type CommandContext } from '../context.js';
import { domainLookupError } from '../errors.js';
import { runDryRun } from './migrate-dry-run.js';
import {
  AutoStepNotices,
  barView,
  plainView,
  PostcopyNotices,
  SILENT_VIEW,
  type ProgressView,
} from '../progress.js';

/** What `ferry migrate …` asks for. */
export interface MigrateRequest {
  domain: string;
  destUri: string;
  flags: MigrateFlags;
  verbose: boolean;
}

interface MigrateOpts {
  domain?: string;
  desturi?: string;
  live?: boolean;
  offline?: boolean;
  p2p?: boolean;
  persistent?: boolean;
  undefinesource?: boolean;
  suspend?: boolean;
  verbose?: boolean;
  autoConverge?: boolean;
  tls?: boolean;
  tunnelled?: boolean;
  abortOnError?: boolean;
  postcopy?: boolean;
  postcopyAfterPrecopy?: boolean;
  postcopyResume?: boolean;
  migrateuri?: string;
  listenAddress?: string;
  dname?: string;
  timeout?: string;
  timeoutSuspend?: boolean;
  timeoutPostcopy?: boolean;
  autoConvergeInitial?: string;
  autoConvergeIncrement?: string;
  postcopyBandwidth?: string;
  parallel?: boolean;
  parallelConnections?: string;
  bandwidth?: string;
  copyStorageAll?: boolean;
  copyStorageInc?: boolean;
  migrateDisks?: string;
  disksPort?: string;
  unsafe?: boolean;
  auto?: boolean;
  autoMaxDowntime?: string;
  autoMaxThrottle?: string;
  dryRun?: boolean;
  /** false with --no-measure. */
  measure?: boolean;
  json?: boolean;
}

/** The options of `virsh migrate` that Ferry implements, with virsh's help texts. */
function declareMigrate(cmd: Command): Command {
  return cmd
    .description('migrate domain to another host')
    .argument('[domain]', 'domain name, id or uuid')
    .argument('[desturi]', 'connection URI of the destination host as seen from the source')
    .option('--domain <string>', 'domain name, id or uuid')
    .option('--desturi <string>', 'connection URI of the destination host as seen from the source')
    .option('--live', 'live migration')
    .option('--offline', 'offline migration')
    .option('--p2p', 'peer-2-peer migration (always: ferryd drives every migration)')
    .option('--persistent', 'persist VM on destination')
    .option('--undefinesource', 'undefine VM on source')
    .option('--suspend', 'do not restart the domain on the destination host')
    .option('--verbose', 'display the progress of migration')
    .option('--auto-converge', 'force convergence during live migration')
    .option('--abort-on-error', 'abort on soft errors during migration')
    .option('--postcopy', 'enable post-copy migration; switch to it using migrate-postcopy command')
    .option(
      '--postcopy-after-precopy',
      'automatically switch to post-copy migration after one pass of pre-copy',
    )
    .option('--postcopy-resume', 'resume failed post-copy migration')
    .option('--migrateuri <string>', 'migration URI, usually can be omitted')
    .option(
      '--listen-address <string>',
      'listen address that destination should bind to for incoming migration',
    )
    .option('--dname <string>', 'rename to new name during migration (if supported)')
    .option(
      '--timeout <number>',
      'run action specified by --timeout-* option (suspend by default) if live migration exceeds timeout (in seconds)',
    )
    .option('--timeout-suspend', 'suspend the guest after timeout')
    .option('--timeout-postcopy', 'switch to post-copy after timeout')
    .option('--auto-converge-initial <number>', 'initial CPU throttling rate for auto-convergence')
    .option(
      '--auto-converge-increment <number>',
      'CPU throttling rate increment for auto-convergence',
    )
    .option('--postcopy-bandwidth <number>', 'post-copy migration bandwidth limit in MiB/s')
    .option('--parallel', 'enable parallel migration')
    .option('--parallel-connections <number>', 'number of connections for parallel migration')
    .option('--bandwidth <number>', 'migration bandwidth limit in MiB/s')
    .option('--tls', 'use TLS for migration of domain memory')
    .option('--copy-storage-all', 'migration with non-shared storage with full disk copy')
    .option(
      '--copy-storage-inc',
      'migration with non-shared storage with incremental copy (same base image shared between source and destination)',
    )
    .option('--migrate-disks <string>', 'comma separated list of disks to be migrated')
    .option('--disks-port <number>', 'port to use by target server for incoming disks migration')
    .option('--unsafe', 'force migration even if it may be unsafe')
    .option(
      '--auto',
      'live migration that, when it stops converging, raises the max downtime, then throttles the guest (auto-converge), then switches to post-copy',
    )
    .option(
      '--auto-max-downtime <number>',
      'bound for --auto to raise the max downtime to (ms, default 2000)',
    )
    .option(
      '--auto-max-throttle <number>',
      'bound for --auto to throttle the guest vCPUs to (%, default 99)',
    )
    .option('--tunnelled', 'tunnelled migration (not supported: use --tls to encrypt the stream)')
    .option(
      '--dry-run',
      'run every preflight check of this migration and print the report; change nothing',
    )
    .option('--no-measure', 'with --dry-run: skip the bandwidth and dirty-rate measurements')
    .option('--json', 'with --dry-run: print the report as JSON');
}

/** A `<number>` option: whole, ≥ 1 and within virsh's `int` (or, for sizes, a safe integer). */
function numberOption(
  text: string | undefined,
  flag: string,
  max = 2 ** 31 - 1,
): number | undefined {
  if (text === undefined) return undefined;
  return parseWholeNumber(text, flag, 1, max);
}

/**
 * Turns parsed positionals and options into a request. Only parses: which combinations make
 * sense is ferryd's call (migration/flags.ts), so every client gets the same answer.
 */
function toRequest(positionals: readonly (string | undefined)[], o: MigrateOpts): MigrateRequest {
  // virsh fills <domain> then <desturi> from whatever was not given as an option.
  const rest = positionals.filter((p): p is string => p !== undefined);
  const domain = domainArg(o.domain === undefined ? rest.shift() : undefined, o);
  const destUri = o.desturi ?? rest.shift();
  if (destUri === undefined || destUri === '')
    throw new Error("command 'migrate' requires <desturi> option");
  if (rest.length > 0) throw new Error(`unexpected data '${rest.join(' ')}'`);
  if (o.tunnelled === true)
    throw new Error(
      'Option --tunnelled is not supported: Ferry sends the stream directly between the two QEMUs; use --tls to encrypt it',
    );
  const on = (v: boolean | undefined): boolean => v === true;
  const flags: MigrateFlags = {
    live: on(o.live),
    offline: on(o.offline),
    persistent: on(o.persistent),
    undefineSource: on(o.undefinesource),
    suspend: on(o.suspend),
    parallel: on(o.parallel),
    autoConverge: on(o.autoConverge),
    postcopy: on(o.postcopy),
    postcopyAfterPrecopy: on(o.postcopyAfterPrecopy),
    timeoutSuspend: on(o.timeoutSuspend),
    timeoutPostcopy: on(o.timeoutPostcopy),
    abortOnError: on(o.abortOnError),
    tls: on(o.tls),
    postcopyResume: on(o.postcopyResume),
    copyStorageAll: on(o.copyStorageAll),
    copyStorageInc: on(o.copyStorageInc),
    unsafe: on(o.unsafe),
  };
  // Sent only when given, so a ferryd without --auto still takes every other migration.
  if (on(o.auto)) {
    flags.auto = true;
    flags.live = !on(o.offline);
  }
  // exactOptionalPropertyTypes: absent options stay absent rather than `undefined`.
  const numbers = [
    ['parallelConnections', numberOption(o.parallelConnections, '--parallel-connections')],
    ['autoConvergeInitial', numberOption(o.autoConvergeInitial, '--auto-converge-initial')],
    ['autoConvergeIncrement', numberOption(o.autoConvergeIncrement, '--auto-converge-increment')],
    ['timeout', numberOption(o.timeout, '--timeout')],
    [
      'postcopyBandwidth',
      numberOption(o.postcopyBandwidth, '--postcopy-bandwidth', Number.MAX_SAFE_INTEGER),
    ],
    ['bandwidth', numberOption(o.bandwidth, '--bandwidth', Number.MAX_SAFE_INTEGER)],
    ['disksPort', numberOption(o.disksPort, '--disks-port', 65535)],
    ['autoMaxDowntime', numberOption(o.autoMaxDowntime, '--auto-max-downtime', 2_000_000)],
    ['autoMaxThrottle', numberOption(o.autoMaxThrottle, '--auto-max-throttle', 99)],
  ] as const;
  for (const [key, value] of numbers) if (value !== undefined) flags[key] = value;
  if (o.dname !== undefined) flags.dname = o.dname;
  if (o.migrateuri !== undefined) flags.migrateUri = o.migrateuri;
  if (o.listenAddress !== undefined) flags.listenAddress = o.listenAddress;
  if (o.migrateDisks !== undefined) flags.migrateDisks = diskList(o.migrateDisks);
  return { domain, destUri, flags, verbose: on(o.verbose) };
}

/** `--migrate-disks vda,vdb`: targets, each once. */
function diskList(text: string): string[] {
  const disks = text.split(',').map((d) => d.trim());
  if (disks.some((d) => d === ''))
    throw new Error(`invalid argument: --migrate-disks '${text}' has an empty disk target`);
  return [...new Set(disks)];
}

/** Parses `migrate`'s arguments (argv after the command name) as `ferry migrate` would. */
export function parseMigrateArgs(argv: readonly string[]): MigrateRequest {
  let request: MigrateRequest | undefined;
  declareMigrate(new Command('migrate'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .action((domain: string | undefined, desturi: string | undefined, opts: MigrateOpts) => {
      request = toRequest([domain, desturi], opts);
    })
    .parse([...argv], { from: 'user' });
  if (request === undefined) throw new Error('migrate: no request parsed');
  return request;
}

/** The terminal and signals `ferry migrate` uses; tests pass fakes. */
export interface MigrateIo {
  /** stderr is a terminal: draw a redrawn bar rather than virsh's `\r` text. */
  readonly stderrIsTTY: boolean;
  /** stdin is a terminal: Ctrl-C asks before aborting. */
  readonly stdinIsTTY: boolean;
  readonly stderr: NodeJS.WriteStream;
  /** Calls `cb` on SIGINT (instead of exiting) until the returned function is called. */
  onInterrupt(cb: () => void): () => void;
  /** Asks on the terminal; resolves '' on Ctrl-C, end of input, or when `signal` aborts. */
  ask(question: string, signal: AbortSignal): Promise<string>;
}

/** The real process's terminal and SIGINT. */
export function processIo(): MigrateIo {
  return {
    // isatty(0) rather than process.stdin.isTTY: touching process.stdin opens a stream, a cost
    // every `ferry` command would pay at start-up for a prompt it almost never shows.
    stderrIsTTY: isatty(2),
    stdinIsTTY: isatty(0),
    // A getter for the same reason: process.stderr builds a stream object (a socket for a
    // pipe) on first use, and `migrate` is registered on every run of `ferry`.
    get stderr() {
      return process.stderr;
    },
    onInterrupt(cb) {
      process.on('SIGINT', cb);
      return () => process.off('SIGINT', cb);
    },
    ask(question, signal) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      return new Promise<string>((resolve) => {
        let settled = false;
        const settle = (answer: string | undefined): void => {
          if (settled) return;
          settled = true;
          // Without an answer the cursor is still on the prompt's line.
          if (answer === undefined) process.stderr.write('\n');
          signal.removeEventListener('abort', onAbort);
          rl.close();
          resolve(answer ?? '');
        };
        const onAbort = (): void => settle(undefined);
        signal.addEventListener('abort', onAbort, { once: true });
        // While the prompt is up readline owns Ctrl-C: a second one means "no, keep going".
        rl.on('SIGINT', () => settle(undefined));
        rl.on('close', () => settle(undefined));
        rl.question(question, (answer) => settle(answer));
      });
    },
  };
}

/** Runs a parsed migration to its end: progress, Ctrl-C handling, virsh's output. */
export async function runMigration(
  ctx: CommandContext,
  req: MigrateRequest,
  io: MigrateIo,
): Promise<void> {
  const conn = await ctx.connect();
  const view: ProgressView = !req.verbose
    ? SILENT_VIEW
    : io.stderrIsTTY
      ? barView(io.stderr)
      : plainView((text) => ctx.err(text));
  // A paused post-copy is told even without --verbose: the job may wait for the link a while.
  const notices = new PostcopyNotices();
  const autoNotices = new AutoStepNotices();
  // Not filtered by name: `domain` may be an id or UUID, and ferryd sends this connection
  // the progress of the job it started and nothing else.
  const stopProgress = conn.onNotification('job.progress', (stats) => {
    const notice = notices.next(stats);
    if (notice !== undefined) {
      if (req.verbose) view.message(notice);
      else ctx.err(notice);
    }
    if (req.verbose) for (const line of autoNotices.next(stats)) view.message(line);
    view.sample(stats);
  });

  let state: 'running' | 'asking' | 'aborting' | 'ended' = 'running';
  // Read through a call: other callbacks change `state` while these ones await.
  const now = (): typeof state => state;
  const closePrompt = new AbortController();
  let stopWaiting: (err: Error) => void = () => undefined;
  const detached = new Promise<never>((_, reject) => (stopWaiting = reject));
  detached.catch(() => undefined); // settled through the race below, or never

  const abortJob = async (): Promise<void> => {
    state = 'aborting';
    try {
      await conn.call('job.abort', { domain: req.domain });
    } catch (err) {
      // e.g. the job finished meanwhile: migration.start's answer tells the rest.
      if (now() === 'aborting') view.message(`warning: ${messageOf(err)}\n`);
    }
  };
  const onInterrupt = async (): Promise<void> => {
    if (state === 'aborting') {
      // A second Ctrl-C after asking for the abort: stop waiting; ferryd finishes the abort.
      stopWaiting(new Error('operation aborted: not waiting for ferryd to finish the abort'));
      return;
    }
    if (state !== 'running') return;
    // On a terminal, ask: one stray Ctrl-C should not throw away a long migration. Without
    // one (a script, a supervisor's SIGINT, `timeout -s INT`) nobody can answer, and killing
    // this process would not stop the job (ferryd drives it), so the signal is taken as the
    // request to abort. virsh differs: in the background it ignores SIGINT (NOTES.md).
    if (io.stdinIsTTY) {
      state = 'asking';
      view.pause();
      const answer = await io.ask('Abort the migration? [y/N]: ', closePrompt.signal);
      if (now() !== 'asking') return; // the job ended while the question was up
      state = 'running';
      view.resume();
      if (!/^\s*y(es)?\s*$/i.test(answer)) return;
    }
    await abortJob();
  };
  const stopInterrupts = io.onInterrupt(() => void onInterrupt());

  let failure: { err: unknown } | undefined;
  let warnings: string[] = [];
  try {
    const result = await Promise.race([
      conn.call('migration.start', { domain: req.domain, destUri: req.destUri, flags: req.flags }),
      detached,
    ]);
    warnings = result.warnings ?? [];
  } catch (err) {
    failure = { err };
  }
  state = 'ended';
  closePrompt.abort();
  stopInterrupts();
  stopProgress();
  view.finish(failure === undefined);
  if (failure !== undefined) throw domainLookupError(failure.err);
  for (const w of warnings) ctx.err(`warning: ${w}\n`);
  // virsh prints nothing on success but the blank line that ends every command.
  ctx.out('\n');
}

/** Registers `migrate`; `io` is the terminal and signals (the process's unless a test's). */
export function registerMigrate(program: Command, ctx: CommandContext, io = processIo()): void {
  declareMigrate(program.command('migrate')).action(
    async (domain: string | undefined, desturi: string | undefined, opts: MigrateOpts) => {
      const req = toRequest([domain, desturi], opts);
      if (opts.dryRun === true)
        await runDryRun(ctx, req, { measure: opts.measure !== false, json: opts.json === true });
      else if (opts.json === true || opts.measure === false)
        throw new Error(
          `Option ${opts.json === true ? '--json' : '--no-measure'} requires --dry-run`,
        );
      else await runMigration(ctx, req, io);
    },
  );
}
