/**
 * What the migration tests share: two hosts, a guest that dirties memory, the checks on its
 * own heartbeat (one life, still beating), reading `domjobinfo` while a job runs, and the
 * QEMU processes a host has.
 * @module
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from './daemon.js';
import { guestXml, readHeartbeats, waitForHeartbeat, type GuestXmlOptions } from './guest.js';

/** Heartbeats form one boot: sequence without gaps, uptime never going back, nothing corrupted. */
export function assertOneLife(serial: string): void {
  const beats = readHeartbeats(serial);
  assert.ok(beats.length > 0, 'guest printed heartbeats');
  beats.forEach((hb, i) => {
    assert.equal(hb.seq, i + 1, `heartbeat ${i + 1} in sequence (no reboot, nothing lost)`);
    // Never back (a reboot starts again near 0). Two beats may show the same uptime: the
    // guest schedules beats by one clock and prints another, and a vCPU stalled in between
    // (waiting for a post-copy page) prints the late one and the next at once.
    if (i > 0) assert.ok(hb.uptime >= (beats[i - 1]?.uptime ?? 0), 'uptime never goes back');
    assert.equal(hb.corrupt, 0, `no corrupted page (heartbeat ${hb.seq})`);
  });
}

/** Waits until the guest has printed `more` heartbeats after the last one seen now. */
export async function keepsBeating(serial: string, more = 3): Promise<void> {
  const last = readHeartbeats(serial).at(-1)?.seq ?? 0;
  await waitForHeartbeat(serial, { pred: (hb) => hb.seq >= last + more, timeoutMs: 30_000 });
}

export async function twoHosts(
  t: Parameters<typeof startDaemon>[0],
): Promise<[TestDaemon, TestDaemon]> {
  return [await startDaemon(t), await startDaemon(t)];
}

/**
 * Defines and starts the test guest on `host`, its serial log in the host's directory, and
 * waits until its working set is filled (and dirtied `dirtyMiB` more when it has a rate).
 * Returns the serial log's path.
 */
export async function startGuest(
  host: Pick<TestDaemon, 'dir' | 'ferryOk'>,
  o: Omit<GuestXmlOptions, 'serialLog'>,
): Promise<string> {
  const serial = join(host.dir, `${o.name}-serial.log`);
  const xml = join(host.dir, `${o.name}.xml`);
  writeFileSync(xml, guestXml({ ...o, serialLog: serial }));
  await host.ferryOk('define', xml);
  await host.ferryOk('start', o.name);
  const fill = (o.dirtyMiB ?? 0) * ((o.dirtyRate ?? 0) > 0 ? 2 : 1);
  await waitForHeartbeat(serial, { pred: (hb) => hb.dirtiedMib >= fill });
  return serial;
}

/** One `Label:   value` line of virsh domjobinfo's output, trimmed; undefined when absent. */
export function jobField(info: string, label: string): string | undefined {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}:\\s+(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** A domjobinfo size (`12.345 MiB`) in bytes. */
export function jobBytes(info: string, label: string): number | undefined {
  const m = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(jobField(info, label) ?? '');
  if (m === null) return undefined;
  const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as 'B'];
  return Number(m[1]) * unit;
}

/**
 * Polls `domjobinfo` on `host` every `everyMs` until `pred` holds for the output, and returns
 * that output; fails with the last output after `timeoutMs`.
 */
export async function waitForJob(
  host: Pick<TestDaemon, 'ferry'>,
  domain: string,
  pred: (info: string) => boolean,
  opts: { timeoutMs?: number; everyMs?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const info = (await host.ferry('domjobinfo', domain)).stdout;
    if (pred(info)) return info;
    if (Date.now() > deadline) assert.fail(`domjobinfo never matched; last output:\n${info}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 200));
  }
}

export { qemuPids } from './daemon.js';

/** The QEMU PID of the first status file in a host's run directory (the incoming guest). */
export async function waitForStatusPid(host: TestDaemon, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const file = readdirSync(host.runDir).find((f) => f.endsWith('.json'));
    if (file !== undefined) {
      try {
        return (JSON.parse(readFileSync(join(host.runDir, file), 'utf8')) as { pid: number }).pid;
      } catch {
        // Being written (atomically, but the name may be seen first): look again.
      }
    }
    if (Date.now() > deadline) assert.fail(`no status file in ${host.runDir}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `list --all` showing no domain at all. */
export const EMPTY_LIST = ' Id   Name   State\n--------------------\n\n';

/**
 * A guest that pre-copy cannot move at {@link BANDWIDTH_CAP}: it rewrites an 8 MiB working set
 * at 20 MiB/s (guests that must survive a pre-copy stay at or below 20 MiB/s: faster dirtying
 * can be corrupted by QEMU 7.2 itself under TCG), so every pass finds the whole set dirty
 * again, far above the 2.4 MiB (8 MiB/s × 300 ms of downtime) the last pass may leave. A pass
 * takes about a second, so policies that count passes act quickly; the first pass (about
 * 100 MiB of kernel, page cache and working set) takes about 10 s.
 */
export const NON_CONVERGING = { hbMs: 200, dirtyMiB: 8, dirtyRate: 20 } as const;
/** The stream's cap in MiB/s (`--bandwidth`) under which {@link NON_CONVERGING} never converges. */
export const BANDWIDTH_CAP = '8';

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Takes `sample()` every `everyMs` until `job` settles (at least once); returns the samples. */
export async function sampleWhile<T>(
  job: Promise<unknown>,
  sample: () => Promise<T>,
  everyMs = 500,
): Promise<T[]> {
  const job$ = { done: false };
  const ended = job.then(
    () => (job$.done = true),
    () => (job$.done = true),
  );
  const samples: T[] = [];
  do {
    samples.push(await sample());
    await Promise.race([sleep(everyMs), ended]);
  } while (!job$.done);
  return samples;
}

/** Waits until `pred()` holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(200);
  }
}
