/**
 * Removing a testbed from its record alone, so that it works from any process and after the
 * owner crashed: daemons and guests first, then every process left in the host namespaces,
 * then the namespaces, mounts, directory and subnet reservation. Each step tolerates what
 * was never made; the directory goes only when nothing is mounted under it any more.
 * @module
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FerryError, messageOf } from '../common/errors.js';
import { killGuests } from './ferryd.js';
import { decideIsolation } from './naming.js';
import { mountsUnder, netnsPids, removeNetns, unmountAllUnder } from './namespaces.js';
import { stopNfsServer } from './nfs.js';
import { withRemovalClaim } from './removal-claim.js';
import { endProcesses, isRunning, processRecord, type ProcessRecord } from './processes.js';
import {
  readRecord,
  releaseStaleSubnets,
  releaseSubnet,
  stateRoot,
  testbedDirs,
  type HostRecord,
  type TestbedRecord,
} from './state.js';

/** A host's run directory (its /run/ferry), where ferryd keeps the guests' pid files. */
export const hostRunDir = (h: { dir: string }): string => join(h.dir, 'run-ferry');

/** Network namespaces named `<testbed>-…`: also those made just before a crash, unrecorded. */
function netnsOfTestbed(name: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(`${name}-`));
  } catch {
    return [];
  }
}

async function collect(errors: string[], what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    errors.push(`${what}: ${messageOf(err)}`);
  }
}

const recorded = (recs: (ProcessRecord | undefined)[]): ProcessRecord[] =>
  recs.filter((r): r is ProcessRecord => r !== undefined);

/** Stops a host's ferryd, then its guests, then sshd. */
async function stopHostProcesses(h: HostRecord, errors: string[]): Promise<void> {
  await collect(errors, `ferryd of ${h.name}`, () => endProcesses(recorded([h.ferryd])));
  await collect(errors, `guests of ${h.name}`, () => killGuests(hostRunDir(h)));
  await collect(errors, `sshd of ${h.name}`, () => endProcesses(recorded([h.sshd])));
}

/** Kills whatever still runs in the namespace (ssh sessions, commands, stray guests). */
async function killNetnsProcesses(netns: string): Promise<void> {
  const pids = await netnsPids(netns);
  await endProcesses(recorded(pids.map(processRecord)), { first: 'SIGKILL' });
}

/**
 * Removes everything `rec` records (and namespaces named after it); throws if any step failed.
 * Another process removing it at the same time is waited for instead.
 */
export function removeTestbed(rec: TestbedRecord): Promise<void> {
  return withRemovalClaim(rec.dir, () => removeRecorded(rec));
}

async function removeRecorded(rec: TestbedRecord): Promise<void> {
  const errors: string[] = [];
  for (const h of rec.hosts) await stopHostProcesses(h, errors);
  // After every host's guests: a guest's disk may be on another host's NFS server.
  for (const h of rec.hosts) {
    const nfs = h.nfs;
    if (nfs !== undefined)
      await collect(errors, `NFS server of ${h.name}`, () => stopNfsServer(nfs));
  }
  const namespaces = new Set(
    [...rec.hosts.map((h) => h.netns), rec.switchNetns, ...netnsOfTestbed(rec.name)].filter(
      (n): n is string => n !== undefined,
    ),
  );
  if (rec.namespaces) {
    for (const ns of namespaces)
      await collect(errors, `processes in ${ns}`, () => killNetnsProcesses(ns));
  }
  // The mount and UTS namespaces end once no process is in them and their files are unmounted.
  await collect(errors, `mounts under ${rec.dir}`, () => unmountAllUnder(rec.dir));
  for (const ns of namespaces) await collect(errors, `netns ${ns}`, () => removeNetns(ns));
  if (mountsUnder(rec.dir).length === 0) {
    rmSync(rec.dir, { recursive: true, force: true });
    if (rec.subnet !== undefined) releaseSubnet(dirname(rec.dir), rec.subnet, rec.name);
  } else {
    errors.push(`${rec.dir} kept: something is still mounted under it`);
  }
  if (errors.length > 0)
    throw new FerryError(
      'SYSTEM_ERROR',
      `Testbed ${rec.name} not fully removed: ${errors.join('; ')}`,
    );
}

/** A directory without a readable record: its creator crashed at once, or it is not ours. */
function removeUnrecorded(dir: string): Promise<void> {
  return withRemovalClaim(dir, () => removeByName(dir));
}

async function removeByName(dir: string): Promise<void> {
  const name = basename(dir);
  const netns = netnsOfTestbed(name);
  for (const ns of netns) await killNetnsProcesses(ns);
  await unmountAllUnder(dir);
  for (const ns of netns) await removeNetns(ns);
  if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
}

/** A directory this young without a record may be a testbed being created right now. */
const UNRECORDED_GRACE_MS = 60_000;

/**
 * Removes the testbeds of this user whose owner process has ended (all of them with
 * `all`, also those `ferry-testbed up` keeps); returns the names removed.
 */
export async function cleanupTestbeds(options: { all?: boolean } = {}): Promise<string[]> {
  const all = options.all === true;
  const root = stateRoot(decideIsolation(process.getuid?.() ?? 0).namespaces);
  const removed: string[] = [];
  const errors: string[] = [];
  for (const dir of testbedDirs(root)) {
    let rec: TestbedRecord | undefined;
    try {
      rec = readRecord(dir);
    } catch {
      rec = undefined;
    }
    try {
      if (rec === undefined) {
        if (!existsSync(dir)) continue;
        if (!all && Date.now() - statSync(dir).mtimeMs < UNRECORDED_GRACE_MS) continue;
        await removeUnrecorded(dir);
        removed.push(basename(dir));
        continue;
      }
      const stale = rec.owner !== 'cli' && !isRunning(rec.owner);
      if (!all && !stale) continue;
      await removeTestbed(rec);
      removed.push(rec.name);
    } catch (err) {
      errors.push(messageOf(err));
    }
  }
  releaseStaleSubnets(root);
  if (errors.length > 0)
    throw new FerryError('SYSTEM_ERROR', `Cleanup incomplete: ${errors.join('; ')}`, {
      data: { removed },
    });
  return removed;
}
