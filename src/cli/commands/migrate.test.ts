import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../../common/errors.js';
import { parseConnectionUri } from '../../common/uri.js';
import type { JobStats } from '../../rpc/schema/migration.js';
import type { Connection } from '../connection.js';
import type { CommandContext } from '../context.js';
import { CommandError, renderError } from '../errors.js';
import { parseMigrateArgs, runMigration, type MigrateIo, type MigrateRequest } from './migrate.js';

const NO_FLAGS = {
  live: false,
  offline: false,
  persistent: false,
  undefineSource: false,
  suspend: false,
  parallel: false,
  autoConverge: false,
  postcopy: false,
  postcopyAfterPrecopy: false,
  timeoutSuspend: false,
  timeoutPostcopy: false,
  abortOnError: false,
  tls: false,
  postcopyResume: false,
  copyStorageAll: false,
  copyStorageInc: false,
  unsafe: false,
};

test('parseMigrateArgs() maps every virsh flag to MigrateFlags', () => {
  const req = parseMigrateArgs([
    ...['--live', '--offline', '--p2p', '--persistent', '--undefinesource', '--suspend'],
    ...['--dname', 'vm2', '--verbose', '--parallel', '--parallel-connections', '4'],
    ...['--auto-converge', '--auto-converge-initial', '20', '--auto-converge-increment', '10'],
    ...['--postcopy', '--postcopy-after-precopy', '--postcopy-bandwidth', '50'],
    ...['--timeout', '8', '--timeout-suspend', '--timeout-postcopy', '--bandwidth', '100'],
    ...[
      '--migrateuri',
      'tcp:10.0.0.2:49152',
      '--listen-address',
      '0.0.0.0',
      '--abort-on-error',
      '--tls',
    ],
    ...['--copy-storage-all', '--copy-storage-inc', '--migrate-disks', 'vda,vdb,vda'],
    ...['--disks-port', '49200', '--unsafe'],
    '--postcopy-resume',
    'vm1',
    'qemu+tcp://10.0.0.2/system',
  ]);
  assert.deepEqual(req, {
    domain: 'vm1',
    destUri: 'qemu+tcp://10.0.0.2/system',
    verbose: true,
    flags: {
      live: true,
      offline: true,
      persistent: true,
      undefineSource: true,
      suspend: true,
      dname: 'vm2',
      parallel: true,
      parallelConnections: 4,
      autoConverge: true,
      autoConvergeInitial: 20,
      autoConvergeIncrement: 10,
      postcopy: true,
      postcopyAfterPrecopy: true,
      postcopyBandwidth: 50,
      timeout: 8,
      timeoutSuspend: true,
      timeoutPostcopy: true,
      bandwidth: 100,
      migrateUri: 'tcp:10.0.0.2:49152',
      listenAddress: '0.0.0.0',
      abortOnError: true,
      tls: true,
      copyStorageAll: true,
      copyStorageInc: true,
      migrateDisks: ['vda', 'vdb'],
      disksPort: 49200,
      unsafe: true,
      postcopyResume: true,
    },
  });
});

test('parseMigrateArgs() sends every boolean and no absent option', () => {
  assert.deepEqual(parseMigrateArgs(['vm1', 'qemu:///system']), {
    domain: 'vm1',
    destUri: 'qemu:///system',
    verbose: false,
    flags: NO_FLAGS,
  });
});

test('parseMigrateArgs() takes <domain> and <desturi> positionally or as options, like virsh', () => {
  const forms = [
    ['--domain', 'vm1', 'dst'],
    ['vm1', '--desturi', 'dst'],
    ['--desturi', 'dst', 'vm1'],
    ['--live', '--domain', 'vm1', '--desturi', 'dst'],
    ['vm1', '--live', 'dst'],
  ];
  for (const argv of forms) {
    const req = parseMigrateArgs(argv);
    assert.equal(req.domain, 'vm1', argv.join(' '));
    assert.equal(req.destUri, 'dst', argv.join(' '));
  }
});

test('parseMigrateArgs() refuses malformed numbers and missing arguments in virsh words', () => {
  const refused: [string[], string][] = [
    [['--timeout', '5s', 'vm', 'dst'], "Numeric value '5s' for <timeout> option is malformed"],
    [['--timeout', '0', 'vm', 'dst'], "Numeric value '0' for <timeout> option"],
    [['--bandwidth', '-1', 'vm', 'dst'], "Numeric value '-1' for <bandwidth> option"],
    [['--parallel-connections', '1e3', 'vm', 'dst'], "'1e3' for <parallel-connections>"],
    [['--auto-converge-initial', '99999999999', 'vm', 'dst'], "'99999999999' for <auto-conv"],
    [['vm'], "command 'migrate' requires <desturi> option"],
    [[], "command requires the option '--domain <string>'"],
    [['vm', 'dst', 'extra'], 'too many arguments'],
    [['--domain', 'vm', '--desturi', 'dst', 'extra'], "unexpected data 'extra'"],
    [['--tunnelled', 'vm', 'dst'], 'Option --tunnelled is not supported: Ferry sends the stream'],
    [['--bogus', 'vm', 'dst'], "unknown option '--bogus'"],
  ];
  for (const [argv, message] of refused) {
    assert.throws(
      () => parseMigrateArgs(argv),
      (err: Error) => err.message.includes(message),
      argv.join(' '),
    );
  }
});

/** A Connection double: answers calls from `handlers` and lets a test push notifications. */
function fakeConnection(handlers: Record<string, (params: unknown) => Promise<unknown>>) {
  const calls: [string, unknown][] = [];
  const listeners = new Set<(params: unknown) => void>();
  const conn: Connection = {
    uri: parseConnectionUri('qemu:///system'),
    call: async (name, params) => {
      calls.push([name, params]);
      const handler = handlers[name];
      if (handler === undefined) throw new Error(`unexpected call ${name}`);
      return (await handler(params)) as never;
    },
    onNotification: (_method, cb) => {
      const listener = cb as (params: unknown) => void;
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => undefined,
  };
  const emit = (stats: JobStats): void => {
    for (const l of listeners) l({ ...stats, name: 'vm1' });
  };
  return { conn, calls, emit, listeners };
}

function fakeContext(conn: Connection) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CommandContext = {
    uri: 'qemu:///system',
    connect: () => Promise.resolve(conn),
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  };
  return { ctx, out, err };
}

/** Terminal double: no TTYs unless asked, SIGINT fired by the test, scripted answers. */
function fakeIo(opts: { stdinIsTTY?: boolean; answers?: string[] } = {}) {
  let interrupt: (() => void) | undefined;
  const questions: string[] = [];
  const io: MigrateIo = {
    stderrIsTTY: false,
    stdinIsTTY: opts.stdinIsTTY ?? false,
    stderr: process.stderr,
    onInterrupt(cb) {
      interrupt = cb;
      return () => (interrupt = undefined);
    },
    ask(question) {
      questions.push(question);
      return Promise.resolve(opts.answers?.shift() ?? '');
    },
  };
  return { io, questions, sigint: () => interrupt?.(), hasHandler: () => interrupt !== undefined };
}

const MiB = 1024 * 1024;
const running = (processed: number, remaining: number): JobStats => ({
  type: 'Unbounded',
  status: 'active',
  dataProcessed: processed * MiB,
  dataRemaining: remaining * MiB,
  dataTotal: 512 * MiB,
});
const completed: JobStats = { type: 'Completed', status: 'completed' };
const request = (verbose: boolean): MigrateRequest => ({
  domain: 'vm1',
  destUri: 'qemu+unix:///system?socket=/tmp/b',
  flags: { ...NO_FLAGS, live: true },
  verbose,
});

/** A deferred migration.start reply the test settles. */
function pending() {
  let resolve: (v: unknown) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const promise = new Promise<unknown>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

test('runMigration() sends migration.start and prints virsh --verbose progress, then a blank line', async () => {
  const start = pending();
  const fake = fakeConnection({ 'migration.start': () => start.promise });
  const { ctx, out, err } = fakeContext(fake.conn);
  const { io, hasHandler } = fakeIo();
  const run = runMigration(ctx, request(true), io);
  await new Promise((r) => setImmediate(r));
  fake.emit(running(128, 384));
  fake.emit(running(300, 100));
  start.resolve({ name: 'vm1', stats: completed });
  await run;
  assert.deepEqual(fake.calls, [
    [
      'migration.start',
      { domain: 'vm1', destUri: 'qemu+unix:///system?socket=/tmp/b', flags: request(true).flags },
    ],
  ]);
  assert.equal(err.join(''), '\rMigration: [ 25 %]\rMigration: [ 75 %]\rMigration: [100 %]');
  assert.equal(out.join(''), '\n');
  assert.equal(fake.listeners.size, 0, 'progress listener removed');
  assert.equal(hasHandler(), false, 'SIGINT handler removed');
});

test('runMigration() without --verbose prints only the blank line', async () => {
  const fake = fakeConnection({
    'migration.start': () => Promise.resolve({ name: 'vm1', stats: completed }),
  });
  const { ctx, out, err } = fakeContext(fake.conn);
  await runMigration(ctx, request(false), fakeIo().io);
  assert.deepEqual([out.join(''), err.join('')], ['\n', '']);
});

test("runMigration() reports a refused migration in virsh's one-line form", async () => {
  const message = 'internal error: Attempt to migrate guest to the same host 4a4a4a4a';
  const fake = fakeConnection({
    'migration.start': () => Promise.reject(new FerryError('OPERATION_FAILED', message)),
  });
  const { ctx, out } = fakeContext(fake.conn);
  const failure = await runMigration(ctx, request(false), fakeIo().io).catch((e: unknown) => e);
  assert.equal(renderError(failure), `error: ${message}\n`);
  assert.deepEqual(out, []);

  const missing = fakeConnection({
    'migration.start': () =>
      Promise.reject(new FerryError('NO_DOMAIN', 'Domain not found', { data: { domain: 'vm1' } })),
  });
  const lookup = await runMigration(fakeContext(missing.conn).ctx, request(false), fakeIo().io)
    .then(() => undefined)
    .catch((e: unknown) => e);
  assert.ok(lookup instanceof CommandError);
  assert.equal(renderError(lookup), "error: failed to get domain 'vm1'\n");
});

test('runMigration() aborts the job on SIGINT when nobody can be asked (stdin not a TTY)', async () => {
  const start = pending();
  const fake = fakeConnection({
    'migration.start': () => start.promise,
    'job.abort': () => {
      start.reject(
        new FerryError(
          'OPERATION_FAILED',
          "operation aborted: job 'migration out' canceled by client",
        ),
      );
      return Promise.resolve({ name: 'vm1' });
    },
  });
  const { ctx, err } = fakeContext(fake.conn);
  const { io, sigint, questions } = fakeIo();
  const run = runMigration(ctx, request(true), io).catch((e: unknown) => e);
  await new Promise((r) => setImmediate(r));
  fake.emit(running(300, 100));
  sigint();
  const failure = await run;
  assert.deepEqual(questions, []);
  assert.deepEqual(
    fake.calls.map(([name]) => name),
    ['migration.start', 'job.abort'],
  );
  assert.deepEqual(fake.calls[1]?.[1], { domain: 'vm1' });
  // As virsh: the error follows the last percentage directly (outputs.md, aborted migrate).
  assert.equal(
    err.join('') + renderError(failure),
    "\rMigration: [ 75 %]error: operation aborted: job 'migration out' canceled by client\n",
  );
});

test('runMigration() asks on a terminal and aborts only on "y"', async () => {
  const start = pending();
  const fake = fakeConnection({
    'migration.start': () => start.promise,
    'job.abort': () => Promise.resolve({ name: 'vm1' }),
  });
  const { ctx } = fakeContext(fake.conn);
  const { io, sigint, questions } = fakeIo({ stdinIsTTY: true, answers: ['n', 'y'] });
  const run = runMigration(ctx, request(false), io);
  await new Promise((r) => setImmediate(r));
  sigint();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    fake.calls.map(([name]) => name),
    ['migration.start'],
    'answer "n": keep going',
  );
  sigint();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    fake.calls.map(([name]) => name),
    ['migration.start', 'job.abort'],
  );
  assert.deepEqual(questions, ['Abort the migration? [y/N]: ', 'Abort the migration? [y/N]: ']);
  // The job happened to finish before the abort took: that is a success.
  start.resolve({ name: 'vm1', stats: completed });
  await run;
});

test('runMigration() stops waiting on a second SIGINT once the abort is requested', async () => {
  const start = pending();
  const fake = fakeConnection({
    'migration.start': () => start.promise,
    'job.abort': () => Promise.resolve({ name: 'vm1' }),
  });
  const { io, sigint } = fakeIo();
  const run = runMigration(fakeContext(fake.conn).ctx, request(false), io).catch((e: unknown) => e);
  await new Promise((r) => setImmediate(r));
  sigint();
  await new Promise((r) => setImmediate(r));
  sigint();
  const failure = await run;
  assert.match(renderError(failure), /^error: operation aborted: not waiting/);
});

test('runMigration() says when a post-copy stream pauses and resumes, also without --verbose', async () => {
  const start = pending();
  const fake = fakeConnection({ 'migration.start': () => start.promise });
  const { ctx, err } = fakeContext(fake.conn);
  const run = runMigration(ctx, request(false), fakeIo().io);
  await new Promise((r) => setImmediate(r));
  const postcopy = (status: string, postcopyRecovery?: string): JobStats => ({
    ...running(300, 100),
    status,
    postcopy: true,
    ...(postcopyRecovery === undefined ? {} : { postcopyRecovery }),
  });
  fake.emit(postcopy('postcopy-active'));
  fake.emit(
    postcopy('postcopy-paused', 'paused; reconnecting to qemu+tcp://h2/system (try 1 next)'),
  );
  fake.emit(postcopy('postcopy-paused', 'resuming through qemu+tcp://h2/system (try 1)'));
  fake.emit(postcopy('postcopy-recover'));
  fake.emit(postcopy('postcopy-active'));
  fake.emit(postcopy('postcopy-paused', 'paused; waiting for ferry migrate --postcopy-resume'));
  start.resolve({ name: 'vm1', stats: completed });
  await run;
  assert.equal(
    err.join(''),
    'post-copy paused, reconnecting\u2026\npost-copy resumed\n' +
      'post-copy paused, waiting for ferry migrate --postcopy-resume\n',
  );
});

test('parseMigrateArgs() --auto implies --live and takes its bounds', () => {
  const req = parseMigrateArgs([
    ...['--auto', '--auto-max-downtime', '1500', '--auto-max-throttle', '80'],
    ...['vm1', 'qemu:///system'],
  ]);
  assert.deepEqual(req.flags, {
    ...NO_FLAGS,
    live: true,
    auto: true,
    autoMaxDowntime: 1500,
    autoMaxThrottle: 80,
  });
  assert.throws(
    () => parseMigrateArgs(['--auto', '--auto-max-throttle', '100', 'vm1', 'qemu:///system']),
    /Numeric value '100' for <auto-max-throttle> option is malformed or out of range/,
  );
});

test('runMigration() --verbose prints each --auto step once, in order', async () => {
  const start = pending();
  const fake = fakeConnection({ 'migration.start': () => start.promise });
  const { ctx, err } = fakeContext(fake.conn);
  const run = runMigration(ctx, request(true), fakeIo().io);
  await new Promise((r) => setImmediate(r));
  const one = 'auto step 1: max downtime raised to 600 ms: stuck';
  const two = 'auto step 2: auto-converge woken (vCPU throttle up to 99 %): stuck';
  fake.emit({ ...running(300, 100), autoSteps: [one] });
  fake.emit({ ...running(300, 90), autoSteps: [one] });
  fake.emit({ ...running(300, 80), autoSteps: [one, two] });
  start.resolve({ name: 'vm1', stats: completed });
  await run;
  const text = err.join('');
  assert.equal(text.split(one).length, 2, text);
  assert.ok(text.indexOf(one) < text.indexOf(two), text);
});
