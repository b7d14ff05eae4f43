/**
 * Making a testbed: N hosts, each a network namespace on the testbed's switch plus mount and
 * UTS namespaces, each with its own ferryd and sshd; or, without root, N loopback hosts with
 * their own directories. Every resource is recorded in testbed.json before it is made, so a
 * failure half-way (or a crash) leaves nothing that `down`/`cleanup` cannot remove.
 * @module
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { removeTestbed } from './cleanup.js';
import { HOST_COMMANDS, spawnDaemon, waitForLogLine } from './ferryd.js';
import { Host, hostPaths, type HostContext, type TestbedHost } from './host.js';
import {
  checkTestbedName,
  decideIsolation,
  hostAddress,
  hostNames,
  netnsName,
  randomTestbedName,
  switchInterface,
  switchNetnsName,
} from './naming.js';
import {
  createHostMounts,
  createHostNetwork,
  createSwitch,
  makePrivateMountDir,
  nsenterPrefix,
  type BindMount,
} from './namespaces.js';
import {
  checkNfsOptions,
  nfsServerFiles,
  startNfsServer,
  writeNfsServerFiles,
  type NfsServerOptions,
} from './nfs.js';
import { selfRecord } from './processes.js';
import { setUpSsh, sshdArgv, sshdListening, sshdLogFile, type SshHostFiles } from './ssh.js';
import {
  makeTestbedDir,
  readRecord,
  reserveSubnet,
  stateRoot,
  testbedDirs,
  writeRecord,
  type HostRecord,
  type TestbedRecord,
} from './state.js';

export interface TestbedOptions {
  /** Number of hosts (default 2, or as many as `names`). */
  hosts?: number;
  /** Host names (default h1…hN). */
  names?: string[];
  /** ferryd.conf settings added to the testbed's (and winning over them), per host if a function. */
  extraConfig?: string | ((host: string) => string);
  /** Start a ferryd on every host (default true). */
  ferryd?: boolean;
  /** Start an sshd on every host (default true; never on loopback hosts). */
  sshd?: boolean;
  /** The testbed's name (default ftb + random hex). */
  name?: string;
  /**
   * Keep the testbed when this process ends (`ferry-testbed up`): `cleanup` then removes it
   * only with `--all`. By default this process owns it and `cleanup` removes it once it ended.
   */
  keep?: boolean;
  /** Run a userspace NFS server (NFS-Ganesha + rpcbind) on one host; namespace hosts only. */
  nfs?: NfsServerOptions;
}

/** A testbed's NFS export, for nfs://ADDRESS/EXPORT_DIR/… URLs. */
export interface TestbedNfsExport {
  /** The host that serves it. */
  host: string;
  address: string;
  /** The exported directory as the server names it (the path in nfs:// URLs). */
  exportDir: string;
  /** Real path (outside the hosts) of the exported directory. */
  dir: string;
  /** Real path of the server's log (ganesha and rpcbind). */
  log: string;
}

export interface Testbed {
  readonly name: string;
  readonly hosts: readonly TestbedHost[];
  host(name: string): TestbedHost;
  /** Whether the hosts are namespaces (made as root), not loopback hosts. */
  readonly root: boolean;
  /** The testbed's directory (testbed.json, one directory per host). */
  readonly dir: string;
  /** The NFS export, when the testbed was made with `nfs`. */
  readonly nfs: TestbedNfsExport | undefined;
  /** Removes everything the testbed made; safe to call twice. */
  down(): Promise<void>;
}

/** A host's ssh files, where setUpSsh writes them. */
const sshFiles = (h: HostRecord): SshHostFiles => ({
  name: h.name,
  address: h.address,
  sshDir: hostPaths(h.dir).ssh,
  sshdDir: join(h.dir, 'sshd'),
});

/** The bind mounts that make a host's view of the file system its own. */
function hostBinds(dir: string, h: HostRecord): BindMount[] {
  const p = hostPaths(h.dir);
  const nfs =
    h.nfs === undefined
      ? []
      : [{ source: nfsServerFiles(h.dir, p.stateDir).exportSource, target: h.nfs.exportDir }];
  return [
    ...nfs,
    { source: p.etcFerry, target: '/etc/ferry' },
    { source: p.stateDir, target: '/var/lib/ferry' },
    { source: p.runDir, target: '/run/ferry' },
    { source: p.ssh, target: '/root/.ssh' },
    { source: p.pki, target: '/etc/pki' },
    { source: join(dir, 'hosts'), target: '/etc/hosts' },
    { source: join(dir, 'bin'), target: '/usr/local/bin' },
  ];
}

function etcHostsText(hosts: readonly HostRecord[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const h of hosts) lines.push(`${h.address}\t${h.name}`);
  return `${lines.join('\n')}\n`;
}

/** Directories and shared files of every host; no namespace yet. */
function makeHostFiles(rec: TestbedRecord): void {
  for (const h of rec.hosts) {
    const p = hostPaths(h.dir);
    for (const d of [p.etcFerry, p.stateDir, p.runDir, p.pki])
      mkdirSync(d, { recursive: true, mode: 0o755 });
    mkdirSync(p.ssh, { recursive: true, mode: 0o700 });
    if (h.nfs !== undefined) writeNfsServerFiles(h.dir, p.stateDir, h.nfs.exportDir);
  }
  writeFileSync(join(rec.dir, 'hosts'), etcHostsText(rec.hosts), { mode: 0o644 });
  const bin = join(rec.dir, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  // ferry-ssh-helper may not be built yet: a dangling link starts working once it is.
  for (const [name, target] of Object.entries(HOST_COMMANDS)) symlinkSync(target, join(bin, name));
}

async function makeNamespaces(rec: TestbedRecord, save: () => void, sshd: boolean): Promise<void> {
  const nsDir = join(rec.dir, 'ns');
  await makePrivateMountDir(nsDir);
  const switchNetns = switchNetnsName(rec.name);
  rec.switchNetns = switchNetns;
  save();
  await createSwitch(switchNetns);
  for (const h of rec.hosts) {
    h.netns = netnsName(rec.name, h.name);
    h.switchInterface = switchInterface(h.index);
    save();
    await createHostNetwork(h.netns, switchNetns, h.switchInterface, h.address);
  }
  if (sshd) await setUpSsh(rec.hosts.map(sshFiles));
  for (const h of rec.hosts) {
    h.mountNs = join(nsDir, `${h.name}.mnt`);
    h.utsNs = join(nsDir, `${h.name}.uts`);
    save();
    await createHostMounts(dirname(rec.dir), h.mountNs, h.utsNs, h.name, hostBinds(rec.dir, h));
  }
}

async function startSshd(h: HostRecord, save: () => void): Promise<void> {
  const files = sshFiles(h);
  const { netns, mountNs, utsNs } = h;
  if (netns === undefined || mountNs === undefined || utsNs === undefined)
    throw new FerryError('INTERNAL_ERROR', `Host ${h.name} has no namespaces for its sshd`);
  const proc = spawnDaemon(
    [...nsenterPrefix(netns, mountNs, utsNs, '/'), ...sshdArgv(files)],
    sshdLogFile(files),
  );
  h.sshd = proc;
  save();
  await waitForLogLine(`sshd of ${h.name}`, proc, sshdLogFile(files), 0, sshdListening(h.address));
}

async function startNfs(h: HostRecord, save: () => void): Promise<void> {
  const { netns, mountNs, utsNs, nfs } = h;
  if (netns === undefined || mountNs === undefined || utsNs === undefined || nfs === undefined)
    throw new FerryError('INTERNAL_ERROR', `Host ${h.name} has no namespaces for its NFS server`);
  const files = nfsServerFiles(h.dir, hostPaths(h.dir).stateDir);
  await startNfsServer(h.name, nsenterPrefix(netns, mountNs, utsNs, '/'), files, (procs) => {
    h.nfs = { exportDir: nfs.exportDir, ...procs };
    save();
  });
}

function checkOptions(options: TestbedOptions): { names: string[]; name: string } {
  const names = hostNames(options);
  const extra = options.extraConfig;
  if (extra !== undefined && typeof extra !== 'string' && typeof extra !== 'function')
    throw new FerryError(
      'INVALID_ARG',
      'extraConfig must be a string or a function of the host name',
    );
  return { names, name: checkTestbedName(options.name ?? randomTestbedName()) };
}

function nfsExportOf(rec: TestbedRecord): TestbedNfsExport | undefined {
  const h = rec.hosts.find((x) => x.nfs !== undefined);
  if (h?.nfs === undefined) return undefined;
  const files = nfsServerFiles(h.dir, hostPaths(h.dir).stateDir);
  const { name: host, address } = h;
  return { host, address, exportDir: h.nfs.exportDir, dir: files.exportSource, log: files.log };
}

/** A Testbed over a record; `save` persists the record's changes (daemon PIDs). */
function testbedOf(rec: TestbedRecord): Testbed {
  const ctx: HostContext = {
    record: rec,
    save: () => {
      // After down() the directory is gone: nothing left to record.
      if (existsSync(rec.dir)) writeRecord(rec);
    },
  };
  const hosts = rec.hosts.map((h) => new Host(ctx, h));
  return {
    name: rec.name,
    hosts,
    root: rec.namespaces,
    dir: rec.dir,
    nfs: nfsExportOf(rec),
    host: (name) => {
      const h = hosts.find((x) => x.name === name);
      if (h === undefined)
        throw new FerryError(
          'INVALID_ARG',
          `Testbed ${rec.name} has no host '${name}' (hosts: ${hosts.map((x) => x.name).join(', ')})`,
        );
      return h;
    },
    down: async () => {
      if (existsSync(rec.dir)) await removeTestbed(rec);
    },
  };
}

/**
 * Makes a testbed and starts its daemons. On failure half-way it removes what it made, then
 * throws. Without root it prints a notice and makes loopback hosts.
 */
export async function createTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const { names, name } = checkOptions(options);
  const isolation = decideIsolation(process.getuid?.() ?? 0);
  if (isolation.notice !== undefined) process.stderr.write(`${isolation.notice}\n`);
  const namespaces = isolation.namespaces;
  const nfs =
    options.nfs === undefined ? undefined : checkNfsOptions(options.nfs, names, namespaces);
  const root = stateRoot(namespaces);
  const dir = makeTestbedDir(root, name);
  const rec: TestbedRecord = {
    version: 1,
    name,
    namespaces,
    dir,
    // A kept testbed belongs to this process until it is complete: a crashed `up` is stale.
    owner: selfRecord(),
    createdAt: new Date().toISOString(),
    sshd: namespaces && options.sshd !== false,
    hosts: [],
  };
  writeRecord(rec);
  const testbed = testbedOf(rec);
  const save = (): void => writeRecord(rec);
  try {
    const subnet = reserveSubnet(root, name);
    rec.subnet = subnet;
    rec.hosts = names.map((host, i) => ({
      name: host,
      index: i + 1,
      address: hostAddress(namespaces, subnet, i + 1),
      dir: join(dir, host),
      ...(nfs?.host === host ? { nfs: { exportDir: nfs.exportDir } } : {}),
    }));
    save();
    makeHostFiles(rec);
    if (namespaces) await makeNamespaces(rec, save, rec.sshd);
    const made = testbedOf(rec);
    for (const h of made.hosts) {
      const extra = options.extraConfig;
      h.writeConfig(typeof extra === 'function' ? extra(h.name) : (extra ?? ''));
    }
    if (rec.sshd) for (const h of rec.hosts) await startSshd(h, save);
    for (const h of rec.hosts) if (h.nfs !== undefined) await startNfs(h, save);
    if (options.ferryd !== false) await Promise.all(made.hosts.map((h) => h.startFerryd()));
    if (options.keep === true) {
      rec.owner = 'cli';
      save();
    }
    return made;
  } catch (err) {
    await testbed.down().catch(() => undefined);
    throw err;
  }
}

/** The testbed called `name` of this user (made by this or another process). */
export function openTestbed(name: string): Testbed {
  checkTestbedName(name);
  const root = stateRoot(decideIsolation(process.getuid?.() ?? 0).namespaces);
  const dir = join(root, name);
  if (!existsSync(dir)) throw new FerryError('INVALID_ARG', `No testbed named '${name}'`);
  return testbedOf(readRecord(dir));
}

/** The records of this user's testbeds (those with a readable record). */
export function listTestbeds(): TestbedRecord[] {
  const root = stateRoot(decideIsolation(process.getuid?.() ?? 0).namespaces);
  const out: TestbedRecord[] = [];
  for (const dir of testbedDirs(root)) {
    try {
      out.push(readRecord(dir));
    } catch {
      // Half-made or half-removed: `cleanup` deals with it.
    }
  }
  return out;
}
