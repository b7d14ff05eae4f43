import { strict as assert } from 'node:assert';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FerryError } from '../../common/errors.js';
import type { JsonObject } from '../framing.js';
import type { Transport } from './index.js';
import { connectUnix, listenUnix } from './unix.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-unix-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function failure(p: Promise<unknown>): Promise<FerryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FerryError, String(err));
    return err;
  }
  assert.fail('expected a rejection');
}

/** Echoes every message back, to prove a listener works. */
function echo(t: Transport): void {
  t.onMessage((m) => {
    t.send(m);
  });
}

async function roundTrip(path: string, msg: JsonObject): Promise<JsonObject> {
  const t = await connectUnix(path);
  try {
    const reply = new Promise<JsonObject>((resolve) => t.onMessage(resolve));
    t.send(msg);
    return await reply;
  } finally {
    t.close();
  }
}

void test('the socket is created 0600 in a new 0755 parent directory, and removed on close', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'run', 'ferry', 'ferry-sock');
  const listener = await listenUnix(path, echo);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.ok((await stat(path)).isSocket());
  assert.equal((await stat(join(dir, 'run', 'ferry'))).mode & 0o777, 0o755);
  assert.deepEqual(await roundTrip(path, { hello: 1 }), { hello: 1 });
  await listener.close();
  await assert.rejects(stat(path), /ENOENT/);
});

void test('a custom mode is applied', async (t) => {
  const path = join(await tempDir(t), 's');
  const listener = await listenUnix(path, echo, { mode: 0o660 });
  t.after(() => listener.close());
  assert.equal((await stat(path)).mode & 0o777, 0o660);
});

void test('a second listener on a live socket is refused and the first keeps working', async (t) => {
  const path = join(await tempDir(t), 'ferry-sock');
  const first = await listenUnix(path, echo);
  t.after(() => first.close());
  const err = await failure(listenUnix(path, echo));
  assert.equal(err.code, 'OPERATION_FAILED');
  assert.equal(err.message, `Socket ${path} is in use by another ferryd`);
  assert.deepEqual(await roundTrip(path, { still: 'alive' }), { still: 'alive' });
});

void test('a stale socket file (nobody listening) is replaced', async (t) => {
  const path = join(await tempDir(t), 'ferry-sock');
  // Leave a socket file behind the way a crashed daemon does: a process that listens
  // and is then SIGKILLed (a clean close would unlink the file).
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
  ]);
  await new Promise((resolve) => child.stdout.once('data', resolve));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok((await stat(path)).isSocket());
  const listener = await listenUnix(path, echo);
  t.after(() => listener.close());
  assert.deepEqual(await roundTrip(path, { fresh: true }), { fresh: true });
});

void test('a regular file at the socket path is never deleted', async (t) => {
  const path = join(await tempDir(t), 'not-a-socket');
  await writeFile(path, 'precious');
  const err = await failure(listenUnix(path, echo));
  assert.equal(err.message, `Path '${path}' exists and is not a socket`);
  assert.ok((await stat(path)).isFile());
});

void test('connecting to a missing or dead socket fails in virsh wording', async (t) => {
  const dir = await tempDir(t);
  const missing = join(dir, 'nope');
  const err = await failure(connectUnix(missing));
  assert.equal(err.code, 'CONNECT_FAILED');
  assert.equal(err.message, `Failed to connect socket to '${missing}': No such file or directory`);
  const file = join(dir, 'file');
  await writeFile(file, '');
  const refused = await failure(connectUnix(file));
  assert.equal(refused.message, `Failed to connect socket to '${file}': Connection refused`);
});
