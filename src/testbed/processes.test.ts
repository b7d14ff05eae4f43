import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { endProcesses, isRunning, processRecord, run, runOk, selfRecord } from './processes.js';

test('isRunning() knows a process by PID and start time, so a reused PID is not it', () => {
  const self = selfRecord();
  assert.equal(isRunning(self), true);
  assert.equal(isRunning({ pid: self.pid, startTime: self.startTime + 1 }), false);
  assert.equal(processRecord(2 ** 22 + 1), undefined);
});

test('endProcesses() ends a process that ignores SIGTERM with SIGKILL', async () => {
  const child = spawn('sh', ['-c', 'trap "" TERM; while :; do sleep 0.1; done'], {
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, 200));
  const rec = processRecord(child.pid ?? -1);
  assert.ok(rec !== undefined);
  await endProcesses([rec], { graceMs: 300 });
  assert.equal(isRunning(rec), false);
});

test('run() collects output and exit code; runOk() fails with stderr; a timeout kills', async () => {
  assert.deepEqual(await run(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'in' }), {
    code: 3,
    stdout: 'in',
    stderr: 'err\n',
  });
  await assert.rejects(runOk(['sh', '-c', 'echo nope >&2; exit 1']), /'sh -c .*' failed: nope/);
  await assert.rejects(run(['sleep', '10'], { timeoutMs: 100 }), /did not finish within 100 ms/);
  await assert.rejects(run(['/nonexistent/cmd']), /Cannot run '\/nonexistent\/cmd'/);
});
