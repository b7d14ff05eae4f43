import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../common/errors.js';
import {
  PostcopyResumer,
  RESUME_BACKOFF,
  ResumeImpossibleError,
  ResumeStopped,
} from './postcopy-resume.js';

/** Lets promise callbacks and the resumer's loop run (setImmediate is not mocked). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** A resumer whose tries fail until `worksAt` (1-based), recording each URI tried. */
function scripted(worksAt: number, uri = 'qemu+tcp://h2/system') {
  const tried: string[] = [];
  const resumer = new PostcopyResumer({
    uri,
    attempt: (u) => {
      tried.push(u);
      return tried.length >= worksAt
        ? Promise.resolve()
        : Promise.reject(new FerryError('CONNECT_FAILED', `Cannot reach destination ${u}`));
    },
  });
  return { resumer, tried };
}

test('PostcopyResumer tries after 1 s, then 2, 4, 8 and 15 s between tries, until one works', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { resumer, tried } = scripted(7);
  let done = false;
  const running = resumer.start(true).then(() => (done = true));
  assert.equal(RESUME_BACKOFF.firstMs, 1000);
  for (const [i, wait] of [1000, 2000, 4000, 8000, 15_000, 15_000, 15_000].entries()) {
    await flush();
    assert.equal(tried.length, i, `no try ${i + 1} before its wait`);
    assert.match(
      resumer.describe() ?? '',
      new RegExp(`reconnecting to .* \\(try ${i + 1} next\\)`),
    );
    t.mock.timers.tick(wait - 1);
    await flush();
    assert.equal(tried.length, i, `try ${i + 1} not before ${wait} ms`);
    t.mock.timers.tick(1);
    await flush();
    assert.equal(tried.length, i + 1, `try ${i + 1} after ${wait} ms`);
  }
  await running;
  assert.ok(done);
  assert.equal(resumer.running, false);
  assert.equal(resumer.describe(), undefined, 'nothing to say once the stream runs');
});

test('tryNow() tries at once through the URI given, reports its failure, and a later success ends the pause', async () => {
  const tried: string[] = [];
  const resumer = new PostcopyResumer({
    uri: 'qemu+tcp://h2/system',
    attempt: (u) => {
      tried.push(u);
      return u.includes('wrong')
        ? Promise.reject(new FerryError('OPERATION_INVALID', 'no incoming migration job here'))
        : Promise.resolve();
    },
  });
  // Automatic tries off (postcopy_auto_resume = 0): nothing happens until asked.
  const running = resumer.start(false);
  await flush();
  assert.deepEqual(tried, []);
  assert.equal(resumer.describe(), 'paused; waiting for ferry migrate --postcopy-resume');

  await assert.rejects(resumer.tryNow('qemu+tcp://wrong/system'), /no incoming migration job/);
  assert.equal(resumer.running, true, 'still paused after a failed try');
  assert.equal(resumer.uri, 'qemu+tcp://h2/system', 'a failed URI is not adopted');

  await resumer.tryNow('qemu+tcp://10.77.1.11/system');
  await running;
  assert.deepEqual(tried, ['qemu+tcp://wrong/system', 'qemu+tcp://10.77.1.11/system']);
  assert.equal(resumer.uri, 'qemu+tcp://10.77.1.11/system', 'the URI that worked is kept');
});

test('tryNow() is refused while the stream is not paused', async () => {
  const { resumer, tried } = scripted(1);
  await assert.rejects(resumer.tryNow('qemu+tcp://h2/system'), (err: unknown) => {
    assert.ok(err instanceof ResumeStopped);
    assert.equal(err.code, 'OPERATION_INVALID');
    return true;
  });
  assert.deepEqual(tried, []);
});

test('a try that finds the job gone ends the tries with that error', async () => {
  const gone = new ResumeImpossibleError("no incoming migration job 'j1' on this host");
  const resumer = new PostcopyResumer({ uri: 'u', attempt: () => Promise.reject(gone) });
  const running = resumer.start(false);
  await assert.rejects(resumer.tryNow('u'), (err) => err === gone);
  await assert.rejects(running, (err) => err === gone);
  assert.equal(resumer.running, false);
});

test('holdForUser() stops the automatic tries; stop() ends the pause for everyone waiting', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { resumer, tried } = scripted(99);
  const running = resumer.start(true);
  t.mock.timers.tick(1000);
  await flush();
  assert.equal(tried.length, 1);
  resumer.holdForUser();
  t.mock.timers.tick(60_000);
  await flush();
  assert.equal(tried.length, 1, 'no automatic try after holdForUser()');
  assert.equal(resumer.describe(), 'paused; waiting for ferry migrate --postcopy-resume');

  const waiting = resumer.tryNow('u2');
  const asked = assert.rejects(waiting, /Cannot reach destination u2/);
  await flush();
  await asked;
  resumer.stop();
  await assert.rejects(running, ResumeStopped);
});
