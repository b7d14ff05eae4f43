/**
 * One remover per testbed at a time: `down` and any number of `cleanup` runs (two test files
 * cleaning up at once) may go for the same testbed. The first claims it with a symlink in its
 * directory naming the remover (PID and start time; creating a symlink is atomic); the others
 * wait until the directory is gone, or take over if that remover died.
 * @module
 */
import { existsSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { isRunning, selfRecord, type ProcessRecord } from './processes.js';

const CLAIM = 'removing';
/** Removals this process is doing now: a second one in this process waits as well. */
const ours = new Set<string>();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function holderOf(claim: string): ProcessRecord | undefined {
  try {
    const m = /^(\d+):(\d+)$/.exec(readlinkSync(claim));
    return m === null ? undefined : { pid: Number(m[1]), startTime: Number(m[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Runs `remove` as the only remover of testbed directory `dir`; when another live process is
 * removing it, waits for that instead (up to `timeoutMs`). Resolves once `dir` is gone or
 * `remove` finished; a failed `remove` gives up the claim, so a later cleanup can retry.
 */
export async function withRemovalClaim(
  dir: string,
  remove: () => Promise<void>,
  timeoutMs = 180_000,
): Promise<void> {
  const claim = join(dir, CLAIM);
  const me = selfRecord();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!existsSync(dir)) return;
    if (!ours.has(dir)) {
      try {
        symlinkSync(`${me.pid}:${me.startTime}`, claim);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return; // removed meanwhile
        if (code !== 'EEXIST') throw err;
      }
      const holder = holderOf(claim);
      // Our own claim outside `ours` is left from a removal of ours that failed: retry it.
      const mine = holder?.pid === me.pid && holder.startTime === me.startTime;
      if (holder === undefined || mine || !isRunning(holder)) {
        rmSync(claim, { force: true });
        continue;
      }
    }
    if (Date.now() >= deadline)
      throw new FerryError('OPERATION_TIMEOUT', `Another process is still removing ${dir}`);
    await sleep(100);
  }
  ours.add(dir);
  try {
    await remove();
  } finally {
    ours.delete(dir);
    // Still there: the removal failed half-way; let the next remover try.
    if (existsSync(dir)) rmSync(claim, { force: true });
  }
}
