import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  accountsFileProblem,
  addAccount,
  listAccounts,
  parseAccounts,
  readAccounts,
  removeAccount,
  verifyPassword,
} from './accounts.js';
import { formatVerifier, makeVerifier } from './scram.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-accounts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

void test('parseAccounts() reads verifier lines and skips comments and blank lines', () => {
  const v = makeVerifier('pw');
  const accounts = parseAccounts(`# ferry users\n\nfred:${formatVerifier(v)}\n`, 'users');
  assert.deepEqual([...accounts.keys()], ['fred']);
  assert.deepEqual(accounts.get('fred'), v);
});

void test('parseAccounts() names the line of a malformed or duplicate account', () => {
  const good = formatVerifier(makeVerifier('pw'));
  const cases: [string, string][] = [
    ['fred\n', 'Malformed account at users:1: expected USER:SCRAM-SHA-256$…'],
    [`# c\nfred:md5abc\n`, 'Malformed account at users:2: expected SCRAM-SHA-256$'],
    [`fred:${good}\nfred:${good}\n`, "Malformed account at users:2: 'fred' is listed twice"],
    [`a b:${good}\n`, "Malformed account at users:1: must not contain spaces or ':'"],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseAccounts(text, 'users'),
      (err: unknown) =>
        err instanceof Error &&
        'code' in err &&
        err.code === 'INVALID_ARG' &&
        err.message.startsWith(message),
      text,
    );
  }
});

void test('addAccount() creates the file 0600 and replaces a password; comments are kept', async (t) => {
  const file = join(tempDir(t), 'etc', 'users');
  assert.deepEqual(await addAccount(file, 'fred', 'one'), { added: true });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(readFileSync(file, 'utf8'), /^fred:SCRAM-SHA-256\$4096:[^$]+\$[^:]+:\S+\n$/);
  writeFileSync(file, `# admins\n${readFileSync(file, 'utf8')}`, { mode: 0o600 });
  assert.deepEqual(await addAccount(file, 'anna', 'two'), { added: true });
  assert.deepEqual(await addAccount(file, 'fred', 'three'), { added: false });
  assert.deepEqual(await listAccounts(file), ['anna', 'fred']);
  assert.match(readFileSync(file, 'utf8'), /^# admins\n/);
  assert.equal(await verifyPassword('fred', 'three', { file }), true);
  assert.equal(await verifyPassword('fred', 'one', { file }), false);
  assert.equal(await verifyPassword('anna', 'two', { file }), true);
  assert.equal(await verifyPassword('nobody', 'two', { file }), false);
});

void test('bad input to addAccount()/removeAccount() changes nothing', async (t) => {
  const file = join(tempDir(t), 'users');
  await addAccount(file, 'fred', 'pw');
  const before = readFileSync(file, 'utf8');
  await assert.rejects(addAccount(file, 'a:b', 'pw'), {
    code: 'INVALID_ARG',
    message: "Invalid user name 'a:b': it must not contain spaces or ':' nor start with '#'",
  });
  await assert.rejects(addAccount(file, 'anna', ''), { message: 'The password must not be empty' });
  await assert.rejects(removeAccount(file, 'anna'), { message: `No account 'anna' in '${file}'` });
  assert.equal(readFileSync(file, 'utf8'), before);
  // A broken file is reported, not rewritten.
  writeFileSync(file, `${before}garbage\n`);
  await assert.rejects(addAccount(file, 'anna', 'pw'), { message: /Malformed account at .*:2/ });
  assert.equal(readFileSync(file, 'utf8'), `${before}garbage\n`);
});

void test('removeAccount() drops one account; readAccounts() of a missing file names it', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'users');
  await addAccount(file, 'fred', 'pw');
  await addAccount(file, 'anna', 'pw');
  await removeAccount(file, 'fred');
  assert.deepEqual(await listAccounts(file), ['anna']);
  await removeAccount(file, 'anna');
  assert.equal(readFileSync(file, 'utf8'), '');
  const missing = join(dir, 'none');
  await assert.rejects(readAccounts(missing), {
    code: 'SYSTEM_ERROR',
    message: `Cannot read accounts file '${missing}': No such file or directory`,
  });
  await assert.rejects(verifyPassword('fred', 'pw', { file: missing }), { code: 'SYSTEM_ERROR' });
  assert.deepEqual(await listAccounts(missing), []);
});

void test('accountsFileProblem() warns of a missing or group/world-readable file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'users');
  assert.match(
    (await accountsFileProblem(file)) ?? '',
    /cannot be read \(No such file or directory\)/,
  );
  await addAccount(file, 'fred', 'pw');
  assert.equal(await accountsFileProblem(file), undefined);
  writeFileSync(file, readFileSync(file), { mode: 0o644 });
  const { chmodSync } = await import('node:fs');
  chmodSync(file, 0o644);
  assert.match((await accountsFileProblem(file)) ?? '', /mode 644\); chmod 600 it/);
});
