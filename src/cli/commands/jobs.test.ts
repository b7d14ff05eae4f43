import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { FerryError } from '../../common/errors.js';
import { parseConnectionUri } from '../../common/uri.js';
import type { Connection } from '../connection.js';
import type { CommandContext } from '../context.js';
import { renderError } from '../errors.js';
import { parseWholeNumber } from '../context.js';
import { registerJobs } from './jobs.js';

/** Runs `ferry ARGV` against a fake ferryd answering from `replies`; returns what it did. */
async function ferry(argv: string[], replies: Record<string, unknown> = {}) {
  const calls: [string, unknown][] = [];
  const conn: Connection = {
    uri: parseConnectionUri('qemu:///system'),
    call: (name, params) => {
      calls.push([name, params]);
      const reply = replies[name];
      if (reply instanceof Error) return Promise.reject(reply);
      if (reply === undefined) return Promise.reject(new Error(`unexpected call ${name}`));
      return Promise.resolve(reply as never);
    },
    onNotification: () => () => undefined,
    close: () => undefined,
  };
  let stdout = '';
  const ctx: CommandContext = {
    uri: 'qemu:///system',
    connect: () => Promise.resolve(conn),
    out: (t) => (stdout += t),
    err: () => undefined,
  };
  const program = new Command('ferry')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  registerJobs(program, ctx);
  for (const cmd of program.commands) cmd.exitOverride();
  let error: unknown;
  await program.parseAsync(argv, { from: 'user' }).catch((e: unknown) => (error = e));
  return { calls, stdout, error };
}

test("domjobinfo prints virsh's layout for the job ferryd reports", async () => {
  const r = await ferry(['domjobinfo', 'cap1'], { 'job.info': { type: 'None', status: 'none' } });
  assert.deepEqual(r.calls, [['job.info', { domain: 'cap1', completed: false }]]);
  assert.equal(r.stdout, 'Job type:         None        \n\n');
});

test('domjobinfo --completed asks for the finished job and shows its statistics', async () => {
  const stats = {
    type: 'Completed',
    operation: 'Incoming migration',
    status: 'completed',
    timeElapsedMs: 665,
    setupTimeMs: 1,
  };
  const r = await ferry(['domjobinfo', '--domain', 'cap1', '--completed'], { 'job.info': stats });
  assert.deepEqual(r.calls, [['job.info', { domain: 'cap1', completed: true }]]);
  assert.equal(
    r.stdout,
    'Job type:         Completed   \nOperation:        Incoming migration\n' +
      'Time elapsed:     665          ms\nSetup time:       1            ms\n\n',
  );
});

test('domjobabort and migrate-postcopy print only the blank line, as virsh', async () => {
  const abort = await ferry(['domjobabort', 'cap2'], { 'job.abort': { name: 'cap2' } });
  assert.deepEqual(abort.calls, [['job.abort', { domain: 'cap2' }]]);
  assert.equal(abort.stdout, '\n');
  const pause = await ferry(['domjobabort', '--postcopy', 'cap2'], {
    'job.abort': { name: 'cap2' },
  });
  assert.deepEqual(pause.calls, [['job.abort', { domain: 'cap2', postcopy: true }]]);
  assert.equal(pause.stdout, '\n');
  const postcopy = await ferry(['migrate-postcopy', 'cap2'], { 'job.postcopy': { name: 'cap2' } });
  assert.deepEqual(postcopy.calls, [['job.postcopy', { domain: 'cap2' }]]);
  assert.equal(postcopy.stdout, '\n');
});

test('migrate-setmaxdowntime / migrate-getmaxdowntime match the captured virsh output', async () => {
  const set = await ferry(['migrate-setmaxdowntime', 'cap1', '500'], {
    'migration.setMaxDowntime': { downtimeMs: 500 },
  });
  assert.deepEqual(set.calls, [['migration.setMaxDowntime', { domain: 'cap1', downtimeMs: 500 }]]);
  assert.equal(set.stdout, '\n');
  const byOption = await ferry(['migrate-setmaxdowntime', '--downtime', '300', 'cap1'], {
    'migration.setMaxDowntime': { downtimeMs: 300 },
  });
  assert.deepEqual(byOption.calls[0]?.[1], { domain: 'cap1', downtimeMs: 300 });
  const get = await ferry(['migrate-getmaxdowntime', 'cap1'], {
    'migration.getMaxDowntime': { downtimeMs: 300 },
  });
  assert.equal(get.stdout, '300\n\n');
});

test('migrate-setspeed / migrate-getspeed match the captured virsh output', async () => {
  const get = await ferry(['migrate-getspeed', 'cap1'], {
    'migration.getSpeed': { bandwidthMiBs: 8796093022207 },
  });
  assert.equal(get.stdout, '8796093022207\n\n');
  const set = await ferry(['migrate-setspeed', 'cap1', '1000'], {
    'migration.setSpeed': { bandwidthMiBs: 1000 },
  });
  assert.deepEqual(set.calls, [['migration.setSpeed', { domain: 'cap1', bandwidthMiBs: 1000 }]]);
  assert.equal(set.stdout, '\n');
  const unlimited = await ferry(['migrate-setspeed', '--domain', 'cap1', '0'], {
    'migration.setSpeed': { bandwidthMiBs: 0 },
  });
  assert.deepEqual(unlimited.calls[0]?.[1], { domain: 'cap1', bandwidthMiBs: 0 });
});

test('the job commands refuse bad numbers in virsh words, before calling ferryd', async () => {
  const cases: [string[], string][] = [
    [['migrate-setmaxdowntime', 'cap1', '0'], 'error: migrate: Invalid downtime\n'],
    [
      ['migrate-setmaxdowntime', 'cap1', '5ms'],
      "error: Numeric value '5ms' for <downtime> option is malformed or out of range\n",
    ],
    [
      ['migrate-setspeed', 'cap1', '-1'],
      "error: Numeric value '-1' for <bandwidth> option is malformed or out of range\n",
    ],
    [
      ['migrate-setmaxdowntime', 'cap1'],
      "error: command 'migrate-setmaxdowntime' requires <downtime> option\n",
    ],
  ];
  for (const [argv, expected] of cases) {
    const r = await ferry(argv);
    assert.equal(renderError(r.error), expected, argv.join(' '));
    assert.deepEqual(r.calls, []);
  }
});

test("the job commands fail with ferryd's message alone, as virsh does", async () => {
  const noJob = new FerryError(
    'OPERATION_INVALID',
    'Requested operation is not valid: no job is active on the domain',
  );
  const r = await ferry(['domjobabort', 'cap1'], { 'job.abort': noJob });
  assert.equal(
    renderError(r.error),
    'error: Requested operation is not valid: no job is active on the domain\n',
  );
  const missing = new FerryError('NO_DOMAIN', 'Domain not found', { data: { domain: 'nope' } });
  const m = await ferry(['migrate-getspeed', 'nope'], { 'migration.getSpeed': missing });
  assert.equal(renderError(m.error), "error: failed to get domain 'nope'\n");
});

test('parseWholeNumber() accepts 0 and whole numbers only', () => {
  assert.equal(parseWholeNumber('0', 'bandwidth', 0), 0);
  assert.equal(parseWholeNumber('8796093022207', 'bandwidth', 0), 8796093022207);
  assert.throws(() => parseWholeNumber('1.5', 'bandwidth', 0), /malformed or out of range/);
  assert.throws(() => parseWholeNumber('99999999999999999999', 'bandwidth', 0), /out of range/);
});
