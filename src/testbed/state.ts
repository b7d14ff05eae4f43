/**
 * What a testbed made, recorded in `<state root>/<name>/testbed.json` as it makes it, so that
 * `cleanup` can undo everything after the owner crashed: owner, hosts, addresses, namespace
 * names, daemon PIDs. Also the per-testbed subnet reservation.
 * @module
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { FerryError, messageOf } from '../common/errors.js';
import { MAX_SUBNET } from './naming.js';

/** Root's testbeds live here; the loopback fallback keeps its own under the temp directory. */
export const ROOT_STATE_ROOT = '/run/ferry-testbed';
export const RECORD_FILE = 'testbed.json';

export function stateRoot(namespaces: boolean): string {
  return namespaces
    ? ROOT_STATE_ROOT
    : join(tmpdir(), `ferry-testbed-${process.getuid?.() ?? 'user'}`);
}

const processSchema = z.strictObject({ pid: z.number().int(), startTime: z.number() });

/** A host's NFS server (src/testbed/nfs.ts): what it exports and its two processes. */
const nfsServerSchema = z.strictObject({
  exportDir: z.string(),
  ganesha: processSchema.optional(),
  rpcbind: processSchema.optional(),
});

const hostSchema = z.strictObject({
  name: z.string(),
  index: z.number().int(),
  address: z.string(),
  /** Real path of the host's directory. */
  dir: z.string(),
  netns: z.string().optional(),
  switchInterface: z.string().optional(),
  /** Files the host's mount and UTS namespaces are bound to (unshare --mount=FILE). */
  mountNs: z.string().optional(),
  utsNs: z.string().optional(),
  ferryd: processSchema.optional(),
  sshd: processSchema.optional(),
  nfs: nfsServerSchema.optional(),
});

const recordSchema = z.strictObject({
  version: z.literal(1),
  name: z.string(),
  namespaces: z.boolean(),
  dir: z.string(),
  subnet: z.number().int().optional(),
  /** The process whose end makes the testbed stale; "cli" testbeds stay until `down`. */
  owner: z.union([processSchema, z.literal('cli')]),
  createdAt: z.string(),
  switchNetns: z.string().optional(),
  sshd: z.boolean(),
  hosts: z.array(hostSchema),
});

export type HostRecord = z.infer<typeof hostSchema>;
export type TestbedRecord = z.infer<typeof recordSchema>;

export function recordPath(dir: string): string {
  return join(dir, RECORD_FILE);
}

/** Writes the record atomically (temp file + rename): a crash never leaves half a record. */
export function writeRecord(rec: TestbedRecord): void {
  const file = recordPath(rec.dir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function readRecord(dir: string): TestbedRecord {
  const file = recordPath(dir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FerryError('INVALID_ARG', `No testbed at ${dir}: ${messageOf(err)}`, { cause: err });
  }
  try {
    return recordSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new FerryError('INTERNAL_ERROR', `Testbed record ${file} is corrupt: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** The directories of every testbed under `root` (with or without a readable record). */
export function testbedDirs(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries
    .filter((e) => !e.startsWith('subnet-') && !e.startsWith('.'))
    .sort()
    .map((e) => join(root, e));
}

/**
 * Creates the testbed's directory; an existing one is an error (names are unique), so two
 * creators never share a directory.
 */
export function makeTestbedDir(root: string, name: string): string {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const dir = join(root, name);
  try {
    mkdirSync(dir, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new FerryError('INVALID_ARG', `A testbed named '${name}' exists already`);
    throw err;
  }
  return dir;
}

const reservation = (root: string, subnet: number): string => join(root, `subnet-${subnet}`);

/**
 * Reserves the lowest free subnet number for testbed `name`: a symlink `subnet-N → name`,
 * whose creation is atomic, so two testbeds created at the same moment never get the same N.
 */
export function reserveSubnet(root: string, name: string): number {
  for (let n = 1; n <= MAX_SUBNET; n++) {
    try {
      symlinkSync(name, reservation(root, n));
      return n;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new FerryError(
    'OPERATION_FAILED',
    `All ${MAX_SUBNET} testbed subnets are in use; run 'ferry-testbed cleanup'`,
  );
}

/** Releases `subnet` if `name` holds it. */
export function releaseSubnet(root: string, subnet: number, name: string): void {
  const link = reservation(root, subnet);
  try {
    if (readlinkSync(link) === name) rmSync(link, { force: true });
  } catch {
    // Not reserved (any more).
  }
}

/**
 * Removes reservations whose testbed directory is gone (its owner crashed between reserving
 * and recording, or while removing it). A testbed makes its directory before it reserves.
 */
export function releaseStaleSubnets(root: string): void {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.startsWith('subnet-')) continue;
    const link = join(root, e);
    try {
      if (!existsSync(join(root, readlinkSync(link)))) rmSync(link, { force: true });
    } catch {
      // Removed meanwhile.
    }
  }
}
