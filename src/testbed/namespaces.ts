/**
 * The namespaces a testbed host is made of: a network namespace with a veth to the testbed's
 * switch (a bridge in a namespace of its own, never in the root namespace), and persistent
 * mount and UTS namespaces (bound to files) whose bind mounts give the host its own
 * /etc/ferry, /var/lib/ferry, /run/ferry, /root/.ssh, /etc/hosts, /etc/pki and /usr/local/bin.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { FerryError } from '../common/errors.js';
import { BRIDGE, HOST_INTERFACE, SUBNET_PREFIX_LENGTH } from './naming.js';
import { run, runOk } from './processes.js';

const NETNS_DIR = '/run/netns';

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** Makes the switch: a namespace holding only a bridge (and its loopback). */
export async function createSwitch(netns: string): Promise<void> {
  await runOk(['ip', 'netns', 'add', netns]);
  await runOk(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
  await runOk(['ip', '-n', netns, 'link', 'add', BRIDGE, 'type', 'bridge']);
  await runOk(['ip', '-n', netns, 'link', 'set', BRIDGE, 'up']);
}

/**
 * Makes a host's network namespace and plugs it into the switch: a veth whose switch end
 * (`switchIf`) joins the bridge and whose host end is eth0 with `address`/24.
 */
export async function createHostNetwork(
  netns: string,
  switchNetns: string,
  switchIf: string,
  address: string,
): Promise<void> {
  await runOk(['ip', 'netns', 'add', netns]);
  await runOk(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
  // Made inside the switch namespace with its peer moved straight into the host's: the veth
  // never appears in the root namespace, where another testbed might use the same name.
  await runOk([
    'ip',
    '-n',
    switchNetns,
    'link',
    'add',
    switchIf,
    'type',
    'veth',
    'peer',
    'name',
    HOST_INTERFACE,
    'netns',
    netns,
  ]);
  await runOk(['ip', '-n', switchNetns, 'link', 'set', switchIf, 'master', BRIDGE, 'up']);
  await runOk([
    'ip',
    '-n',
    netns,
    'addr',
    'add',
    `${address}/${SUBNET_PREFIX_LENGTH}`,
    'dev',
    HOST_INTERFACE,
  ]);
  await runOk(['ip', '-n', netns, 'link', 'set', HOST_INTERFACE, 'up']);
}

/** Deletes a network namespace if it exists (its veth ends go with it). */
export async function removeNetns(name: string): Promise<void> {
  if (!existsSync(netnsPath(name))) return;
  await runOk(['ip', 'netns', 'del', name]);
}

/** PIDs of every process in network namespace `name` (none when it does not exist). */
export async function netnsPids(name: string): Promise<number[]> {
  if (!existsSync(netnsPath(name))) return [];
  const out = await runOk(['ip', 'netns', 'pids', name]);
  return out
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

/**
 * Makes `dir` a private bind mount of itself: `unshare --mount=FILE` may bind a namespace only
 * onto a file under a mount with private propagation.
 */
export async function makePrivateMountDir(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await runOk(['mount', '--bind', dir, dir]);
  await runOk(['mount', '--make-private', dir]);
}

export interface BindMount {
  source: string;
  target: string;
}

/**
 * Creates a mount point in the root file system when it is missing. A bind mount needs an
 * existing target, and a mount namespace shares the file system: the directory can only be
 * made in the real /etc, /var/lib, /run or /root. It stays there empty, unused by the host.
 */
function ensureMountPoint(m: BindMount, isFile: boolean): void {
  if (existsSync(m.target)) return;
  if (isFile) writeFileSync(m.target, '', { flag: 'a' });
  else mkdirSync(m.target, { recursive: true, mode: m.target.endsWith('/.ssh') ? 0o700 : 0o755 });
}

/**
 * The script run by unshare in the new mount namespace: drop its copies of every network
 * namespace mount (they would keep other testbeds' namespaces alive), name the host, then
 * make the bind mounts given as argument pairs.
 */
const MOUNT_SCRIPT = `set -e
umount -R -l ${NETNS_DIR} 2>/dev/null || true
hostname "$1"; shift
while [ $# -gt 1 ]; do mount --bind "$1" "$2"; shift 2; done`;

/**
 * Makes the host's persistent mount and UTS namespaces, bound to `mountNsFile` and `utsNsFile`
 * (under a private mount dir), with `binds` mounted inside and the hostname set.
 */
export async function createHostMounts(
  mountNsFile: string,
  utsNsFile: string,
  hostname: string,
  binds: readonly BindMount[],
): Promise<void> {
  for (const m of binds) ensureMountPoint(m, !isDirectory(m.source));
  for (const f of [mountNsFile, utsNsFile]) writeFileSync(f, '');
  await runOk([
    'unshare',
    `--mount=${mountNsFile}`,
    `--uts=${utsNsFile}`,
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    MOUNT_SCRIPT,
    'sh',
    hostname,
    ...binds.flatMap((m) => [m.source, m.target]),
  ]);
}

function isDirectory(path: string): boolean {
  return statSync(path).isDirectory();
}

/** Mount points at or below `dir` in this mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const points: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point === undefined) continue;
    // mountinfo escapes space, tab, newline and backslash as octal.
    const path = point.replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)),
    );
    if (path === dir || path.startsWith(`${dir}/`)) points.push(path);
  }
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Unmounts everything at or below `dir` (namespace files, the private mount dir), deepest
 * first; a busy mount is detached lazily. Throws if anything is still mounted there after.
 */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      const r = await run(['umount', p]);
      if (r.code !== 0) await run(['umount', '-l', p]);
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0)
    throw new FerryError('SYSTEM_ERROR', `Cannot unmount ${left.join(', ')}: still mounted`);
}

/** The command prefix that runs a command inside a host's network, mount and UTS namespaces. */
export function nsenterPrefix(
  netns: string,
  mountNsFile: string,
  utsNsFile: string,
  cwd: string,
): string[] {
  return [
    'nsenter',
    `--net=${netnsPath(netns)}`,
    `--mount=${mountNsFile}`,
    `--uts=${utsNsFile}`,
    `--wd=${cwd}`,
    '--',
  ];
}
