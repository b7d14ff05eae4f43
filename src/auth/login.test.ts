import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { addAccount, removeAccount } from './accounts.js';
import { ConnectionLogin, type LoginOptions } from './login.js';
import { ScramClient } from './scram.js';

interface Logged {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

async function setUp(
  t: TestContext,
): Promise<{ options: LoginOptions; logs: Logged[]; delays: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-login-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const accountsFile = join(dir, 'users');
  await addAccount(accountsFile, 'fred', 'pencil');
  const logs: Logged[] = [];
  const delays: number[] = [];
  const log = (level: Logged['level']) => (obj: object, msg?: string) =>
    logs.push({ level, obj: obj as Record<string, unknown>, msg });
  const options: LoginOptions = {
    accountsFile,
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    // Recorded, not waited: tests assert that a failure is held back, not for how long.
    failureDelayMs: () => {
      delays.push(1);
      return 0;
    },
  };
  return { options, logs, delays };
}

/** Runs one whole exchange as a client would; resolves with the server's final message. */
async function attempt(login: ConnectionLogin, user: string, password: string): Promise<string> {
  const client = new ScramClient(user, password);
  const first = await login.start('SCRAM-SHA-256', client.clientFirst);
  const { message } = await login.step(client.clientFinal(first));
  client.verifyServerFinal(message);
  return message;
}

void test('a connection that must log in may call only auth.* until it has', async (t) => {
  const { options, logs, delays } = await setUp(t);
  const login = new ConnectionLogin('tcp:127.0.0.1:5000', true, options);
  assert.deepEqual(login.mechanisms(), ['SCRAM-SHA-256']);
  assert.throws(() => login.check('host.info'), {
    code: 'AUTH_REQUIRED',
    message: 'authentication required',
  });
  login.check('auth.list');
  await attempt(login, 'fred', 'pencil');
  assert.equal(login.user, 'fred');
  assert.deepEqual(login.mechanisms(), []);
  login.check('host.info');
  assert.deepEqual(delays, []);
  assert.deepEqual(logs, [
    {
      level: 'info',
      obj: { peer: 'tcp:127.0.0.1:5000', user: 'fred' },
      msg: 'client authenticated',
    },
  ]);
  await assert.rejects(attempt(login, 'fred', 'pencil'), {
    code: 'OPERATION_INVALID',
    message: "Already authenticated as 'fred'",
  });
});

void test('a wrong password and an unknown user fail alike, logged and held back', async (t) => {
  const { options, logs, delays } = await setUp(t);
  const login = new ConnectionLogin('tcp:127.0.0.1:5001', true, options);
  const failed = {
    code: 'AUTH_FAILED',
    message: 'authentication failed: invalid user name or password',
  };
  await assert.rejects(attempt(login, 'fred', 'wrong'), failed);
  await assert.rejects(attempt(login, 'nobody', 'pencil'), failed);
  assert.equal(login.user, undefined);
  assert.throws(() => login.check('domain.list'), { code: 'AUTH_REQUIRED' });
  assert.equal(delays.length, 2);
  assert.deepEqual(
    logs.map((l) => [l.level, l.obj['peer'], l.obj['user'], l.msg]),
    [
      ['warn', 'tcp:127.0.0.1:5001', 'fred', 'authentication failed'],
      ['warn', 'tcp:127.0.0.1:5001', 'nobody', 'authentication failed'],
    ],
  );
  // The same connection may try again, and succeed.
  await attempt(login, 'fred', 'pencil');
  assert.equal(login.user, 'fred');
});

void test('an unknown user gets the same salt every time (nothing tells it apart)', async (t) => {
  const { options } = await setUp(t);
  const salt = async (user: string): Promise<string> => {
    const login = new ConnectionLogin('p', true, options);
    const first = await login.start('SCRAM-SHA-256', new ScramClient(user, 'x').clientFirst);
    return /,s=([^,]+),i=4096$/.exec(first)?.[1] ?? '';
  };
  assert.equal(await salt('ghost'), await salt('ghost'));
  assert.notEqual(await salt('ghost'), await salt('other-ghost'));
});

void test('the accounts file is read at each login: a removed account stops working', async (t) => {
  const { options, logs } = await setUp(t);
  await attempt(new ConnectionLogin('p', true, options), 'fred', 'pencil');
  await removeAccount(options.accountsFile, 'fred');
  await assert.rejects(attempt(new ConnectionLogin('p', true, options), 'fred', 'pencil'), {
    code: 'AUTH_FAILED',
  });
  rmSync(options.accountsFile);
  await assert.rejects(attempt(new ConnectionLogin('p', true, options), 'fred', 'pencil'), {
    code: 'AUTH_FAILED',
    message: 'authentication failed: invalid user name or password',
  });
  // The administrator learns why from the log; the client does not.
  assert.ok(logs.some((l) => l.level === 'error' && /accounts file is unusable/.test(l.msg ?? '')));
});

void test('out-of-order and unsupported calls are refused', async (t) => {
  const { options } = await setUp(t);
  const login = new ConnectionLogin('p', true, options);
  await assert.rejects(login.step('c=biws,r=x,p=AAAA'), {
    code: 'OPERATION_INVALID',
    message: 'No authentication in progress on this connection: call auth.start first',
  });
  await assert.rejects(login.start('PLAIN', 'x'), {
    code: 'AUTH_FAILED',
    message: "authentication failed: unsupported mechanism 'PLAIN' (ferryd offers SCRAM-SHA-256)",
  });
  await assert.rejects(login.start('SCRAM-SHA-256', 'p=tls-unique,,n=fred,r=abc'), {
    code: 'AUTH_FAILED',
  });
  const open = new ConnectionLogin('p', false, options);
  assert.deepEqual(open.mechanisms(), []);
  open.check('domain.list');
  await assert.rejects(open.start('SCRAM-SHA-256', 'n,,n=fred,r=abc'), {
    code: 'OPERATION_INVALID',
  });
});
