/**
 * qemu+tcp:// with auth_tcp = "sasl": accounts made with `ferry auth-add`, credentials from
 * auth.conf (the URI's authfile=, or FERRY_AUTH_FILE), SCRAM-SHA-256 logins. A client that
 * does not log in may call nothing; a wrong password is refused, logged, and the daemon goes on
 * serving good clients; the unix socket never asks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../../src/common/errors.js';
import { RpcClient, connectTcp } from '../../src/rpc/index.js';
import { METHODS } from '../../src/rpc/methods.js';
import { FERRY, TCP_TEST_ADDR, run, startDaemon, type CliResult } from '../helpers/daemon.js';
import { EMPTY_LIST } from '../helpers/migration.js';

/** The JSON log lines of a daemon whose `msg` is `msg`. */
function logLines(log: string, msg: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

void test(
  'qemu+tcp:// with SASL: auth.conf logins work, no login or a wrong password is refused',
  { timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-auth-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // No user or system auth file may leak in from the machine running the tests.
    const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'xdg'), FERRY_AUTH_FILE: '' };
    const ferry = (
      args: string[],
      extra: NodeJS.ProcessEnv = {},
      input?: string,
    ): Promise<CliResult> => run(process.execPath, [FERRY, ...args], { ...env, ...extra }, input);

    // Accounts: a password from stdin, and a generated one printed on stdout.
    const users = join(dir, 'users');
    const added = await ferry(['auth-add', 'fred', '--file', users], {}, 'pencil\n');
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, `Account 'fred' added to ${users}\n\n`);
    const generated = await ferry(['auth-add', 'anna', '--file', users, '--generate']);
    assert.equal(generated.code, 0, generated.stderr);
    const annaPassword = generated.stdout.trim();
    assert.match(annaPassword, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(statSync(users).mode & 0o777, 0o600);
    assert.equal((await ferry(['auth-list', '--file', users])).stdout, 'fred\nanna\n');
    assert.doesNotMatch(readFileSync(users, 'utf8'), /pencil/, 'verifiers only, no passwords');

    const d = await startDaemon(t, {
      tcp: true,
      tcpAuth: 'sasl',
      configText: `auth_users_file = "${users}"\n`,
    });
    const authConf = join(dir, 'auth.conf');
    writeFileSync(
      authConf,
      `[credentials-fred]\nauthname=fred\npassword=pencil\n\n[credentials-anna]\nauthname=anna\npassword=${annaPassword}\n\n[auth-libvirt-${TCP_TEST_ADDR}]\ncredentials=fred\n\n[auth-libvirt-default]\ncredentials=anna\n`,
    );

    // Good credentials, from the URI's authfile= and from FERRY_AUTH_FILE.
    const withAuthfile = await ferry(['-c', `${d.tcpUri}?authfile=${authConf}`, 'list', '--all']);
    assert.equal(withAuthfile.code, 0, withAuthfile.stderr);
    assert.equal(withAuthfile.stdout, EMPTY_LIST);
    const fromEnv = await ferry(['-c', d.tcpUri, 'version'], { FERRY_AUTH_FILE: authConf });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.match(fromEnv.stdout, /^Running hypervisor: QEMU /m);
    // The URI's user picks the credentials: anna's set, through [auth-libvirt-default].
    const annaUri = d.tcpUri.replace('qemu+tcp://', 'qemu+tcp://anna@');
    const asAnna = await ferry(['-c', `${annaUri}?authfile=${authConf}`, 'list']);
    assert.equal(asAnna.code, 0, asAnna.stderr);
    assert.equal(
      logLines(d.log(), 'client authenticated')
        .map((l) => l['user'])
        .join(),
      'fred,fred,anna',
    );

    // No credentials and no terminal: one clear line saying where to put them.
    const none = await ferry(['-c', d.tcpUri, 'list']);
    assert.equal(none.code, 1);
    assert.equal(
      none.stderr,
      `error: failed to connect to the hypervisor\nerror: authentication failed: no credentials for ${TCP_TEST_ADDR} (add them to ~/.config/ferry/auth.conf, see README)\n`,
    );

    // On a terminal, what auth.conf does not give is asked for; the password is not echoed.
    // (`script` gives ferry a pseudo-terminal; the password is typed ahead, so the terminal
    // itself echoes it before ferry turns echo off: only the prompt is checked here.)
    const fredUri = d.tcpUri.replace('qemu+tcp://', 'qemu+tcp://fred@');
    const tty = await run(
      'script',
      ['-qec', `${process.execPath} ${FERRY} -c ${fredUri} list`, '/dev/null'],
      env,
      'pencil\r',
    );
    assert.equal(tty.code, 0, tty.stdout);
    assert.match(tty.stdout, /Please enter your password: \r?\n Id +Name +State\r?\n/);

    // A client that skips the login may call nothing, not even host.info.
    const port = Number(/:(\d+)\/system$/.exec(d.tcpUri)?.[1]);
    const raw = new RpcClient(await connectTcp(TCP_TEST_ADDR, port), METHODS);
    t.after(() => raw.close());
    assert.deepEqual(await raw.call('auth.list', {}), { mechanisms: ['SCRAM-SHA-256'] });
    for (const method of ['host.info', 'domain.list'] as const) {
      await assert.rejects(
        raw.call(method, method === 'domain.list' ? { active: true, inactive: true } : {}),
        (err: unknown) =>
          err instanceof FerryError &&
          err.code === 'AUTH_REQUIRED' &&
          err.message === 'authentication required',
      );
    }

    // A wrong password: refused without saying which half was wrong, and logged.
    const badConf = join(dir, 'bad.conf');
    writeFileSync(
      badConf,
      '[credentials-x]\nauthname=fred\npassword=guess\n[auth-libvirt-default]\ncredentials=x\n',
    );
    const wrong = await ferry(['-c', `${d.tcpUri}?authfile=${badConf}`, 'list']);
    assert.equal(wrong.code, 1);
    assert.equal(
      wrong.stderr,
      'error: failed to connect to the hypervisor\nerror: authentication failed: invalid user name or password\n',
    );
    // An unknown user gets exactly the same answer.
    const ghostConf = join(dir, 'ghost.conf');
    writeFileSync(
      ghostConf,
      '[credentials-x]\nauthname=ghost\npassword=pencil\n[auth-libvirt-default]\ncredentials=x\n',
    );
    const ghost = await ferry(['-c', `${d.tcpUri}?authfile=${ghostConf}`, 'list']);
    assert.equal(ghost.stderr, wrong.stderr);
    const failures = logLines(d.log(), 'authentication failed');
    assert.deepEqual(
      failures.map((f) => [f['level'], f['user']]),
      [
        [40, 'fred'],
        [40, 'ghost'],
      ],
    );
    assert.match(String(failures[0]?.['peer']), /^tcp:127\.0\.0\.\d+:\d+$/);

    // The daemon keeps serving good clients, and the unix socket never asks for a login.
    assert.equal((await ferry(['-c', `${d.tcpUri}?authfile=${authConf}`, 'list'])).code, 0);
    assert.equal(await d.ferryOk('list', '--all'), EMPTY_LIST);

    // The accounts file is read at each login: a removed account stops working at once.
    const removed = await ferry(['auth-remove', 'fred', '--file', users]);
    assert.equal(removed.stdout, `Account 'fred' removed from ${users}\n\n`);
    const gone = await ferry(['-c', `${d.tcpUri}?authfile=${authConf}`, 'list']);
    assert.match(gone.stderr, /^error: authentication failed: invalid user name or password$/m);
    assert.equal((await ferry(['-c', `${annaUri}?authfile=${authConf}`, 'list'])).code, 0);
  },
);
