/**
 * One testbed host as callers see it: commands run inside its namespaces (or directly, for a
 * loopback host), the `ferry` CLI against its own ferryd, its ferryd's life cycle and
 * configuration, and its link to the switch.
 * @module
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../common/errors.js';
import { hostRunDir } from './cleanup.js';
import { FERRY_BIN, ferrydConfigText, ferrydDefaults, startFerrydProcess } from './ferryd.js';
import { nsenterPrefix } from './namespaces.js';
import { endProcesses, isRunning, run, type CommandResult } from './processes.js';
import { setLinkUp, shapeLink, type HostLink } from './shaping.js';
import type { HostRecord, TestbedRecord } from './state.js';

export type { CommandResult } from './processes.js';

export interface ExecOptions {
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Working directory (default: this process's); the file system is shared with the host. */
  cwd?: string;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  stdio?: StdioOptions;
  cwd?: string;
}

/** Real paths (seen from outside the host) of the directories bind-mounted inside it. */
export interface HostPaths {
  /** /etc/ferry: ferryd.conf. */
  etcFerry: string;
  /** /var/lib/ferry: ferryd's state directory. */
  stateDir: string;
  /** /run/ferry: ferryd's run directory (socket, guests' QMP sockets and pid files). */
  runDir: string;
  /** /etc/pki: TLS certificates in libvirt's layout. */
  pki: string;
  /** /root/.ssh: the host's client key, authorized_keys, known_hosts. */
  ssh: string;
}

export interface TestbedHost {
  readonly name: string;
  readonly address: string;
  /** The host's network namespace; undefined for a loopback host. */
  readonly netns: string | undefined;
  /** Real path of the host's directory. */
  readonly dir: string;
  readonly paths: HostPaths;
  /** qemu+tcp://NAME/system (inside the testbed; a loopback host's is by address). */
  readonly tcpUri: string;
  /** qemu+ssh://NAME/system. */
  readonly sshUri: string;
  /** Whether the host runs sshd (namespace hosts unless turned off; never loopback hosts). */
  readonly sshAvailable: boolean;
  /** The URI of the host's own ferryd socket, the default of ferry() inside the host. */
  readonly localUri: string;
  exec(argv: string[], opts?: ExecOptions): Promise<CommandResult>;
  spawn(argv: string[], opts?: SpawnOptions): ChildProcess;
  ferry(...args: string[]): Promise<CommandResult>;
  ferryOk(...args: string[]): Promise<string>;
  startFerryd(): Promise<void>;
  stopFerryd(): Promise<void>;
  restartFerryd(): Promise<void>;
  ferrydLog(): string;
  writeConfig(extra: string): void;
  cut(): Promise<void>;
  restore(): Promise<void>;
  shape(rate: string | undefined): Promise<void>;
}

/** What a host needs from its testbed: the record, and a way to save changes to it. */
export interface HostContext {
  readonly record: TestbedRecord;
  save(): void;
}

export const ferrydLogFile = (h: { dir: string }): string => join(h.dir, 'ferryd.log');

/** The real paths of host directory `dir`'s bind mount sources. */
export function hostPaths(dir: string): HostPaths {
  return {
    etcFerry: join(dir, 'etc-ferry'),
    stateDir: join(dir, 'var-lib-ferry'),
    runDir: hostRunDir({ dir }),
    pki: join(dir, 'pki'),
    ssh: join(dir, 'ssh'),
  };
}

export class Host implements TestbedHost {
  readonly paths: HostPaths;
  readonly #ctx: HostContext;
  readonly #rec: HostRecord;

  constructor(ctx: HostContext, rec: HostRecord) {
    this.#ctx = ctx;
    this.#rec = rec;
    this.paths = hostPaths(rec.dir);
  }

  get name(): string {
    return this.#rec.name;
  }
  get address(): string {
    return this.#rec.address;
  }
  get netns(): string | undefined {
    return this.#rec.netns;
  }
  get dir(): string {
    return this.#rec.dir;
  }
  get #namespaces(): boolean {
    return this.#ctx.record.namespaces;
  }
  get tcpUri(): string {
    // Inside the testbed every host resolves the others' names (/etc/hosts).
    return `qemu+tcp://${this.#namespaces ? this.name : this.address}/system`;
  }
  get sshUri(): string {
    return `qemu+ssh://${this.name}/system`;
  }
  get sshAvailable(): boolean {
    return this.#rec.sshd !== undefined;
  }
  get localUri(): string {
    return this.#namespaces
      ? 'qemu:///system'
      : `qemu+unix:///system?socket=${join(this.paths.runDir, 'ferry-sock')}`;
  }

  /** The command prefix that enters the host, for a command run in `cwd`. */
  #prefix(cwd: string): string[] {
    const { netns, mountNs, utsNs } = this.#rec;
    if (!this.#namespaces) return [];
    if (netns === undefined || mountNs === undefined || utsNs === undefined)
      throw new FerryError('OPERATION_INVALID', `Host ${this.name} has no namespaces (yet)`);
    return nsenterPrefix(netns, mountNs, utsNs, cwd);
  }

  exec(argv: string[], opts: ExecOptions = {}): Promise<CommandResult> {
    const cwd = opts.cwd ?? process.cwd();
    return run([...this.#prefix(cwd), ...argv], {
      env: { ...process.env, ...opts.env },
      ...(opts.input === undefined ? {} : { input: opts.input }),
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      ...(this.#namespaces ? {} : { cwd }),
    });
  }

  spawn(argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const cwd = opts.cwd ?? process.cwd();
    const [cmd, ...args] = [...this.#prefix(cwd), ...argv];
    if (cmd === undefined) throw new FerryError('INVALID_ARG', 'Empty command');
    return spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      stdio: opts.stdio ?? 'pipe',
      cwd,
    });
  }

  ferry(...args: string[]): Promise<CommandResult> {
    return this.exec([process.execPath, FERRY_BIN, ...args], {
      env: { FERRY_DEFAULT_URI: this.localUri },
    });
  }

  async ferryOk(...args: string[]): Promise<string> {
    const r = await this.ferry(...args);
    if (r.code !== 0)
      throw new FerryError(
        'OPERATION_FAILED',
        `ferry ${args.join(' ')} on ${this.name} exited ${r.code}: ${r.stderr.trim()}`,
        { data: r as unknown as Record<string, unknown> },
      );
    return r.stdout;
  }

  /** ferryd's flags: none inside a namespace host (its default paths are the host's own). */
  #ferrydFlags(): string[] {
    if (this.#namespaces) return [];
    const p = this.paths;
    return [
      ...['--config', join(p.etcFerry, 'ferryd.conf'), '--state-dir', p.stateDir],
      ...['--run-dir', p.runDir, '--socket', join(p.runDir, 'ferry-sock')],
    ];
  }

  async startFerryd(): Promise<void> {
    const running = this.#rec.ferryd;
    if (running !== undefined && isRunning(running)) return;
    await startFerrydProcess(
      `ferryd of ${this.name}`,
      this.#prefix('/'),
      this.#ferrydFlags(),
      ferrydLogFile(this),
      (rec) => {
        this.#rec.ferryd = rec;
        this.#ctx.save();
      },
    );
  }

  /** Stops ferryd (SIGTERM, then SIGKILL after 15 s); its guests keep running. */
  async stopFerryd(): Promise<void> {
    const running = this.#rec.ferryd;
    if (running !== undefined) await endProcesses([running], { graceMs: 15_000 });
    delete this.#rec.ferryd;
    this.#ctx.save();
  }

  async restartFerryd(): Promise<void> {
    await this.stopFerryd();
    await this.startFerryd();
  }

  ferrydLog(): string {
    try {
      return readFileSync(ferrydLogFile(this), 'utf8');
    } catch {
      return '';
    }
  }

  writeConfig(extra: string): void {
    const text = ferrydConfigText(this.name, ferrydDefaults(this.address), extra);
    writeFileSync(join(this.paths.etcFerry, 'ferryd.conf'), text, { mode: 0o644 });
  }

  #link(what: string): HostLink {
    const { netns, switchInterface } = this.#rec;
    const switchNetns = this.#ctx.record.switchNetns;
    if (
      !this.#namespaces ||
      netns === undefined ||
      switchInterface === undefined ||
      switchNetns === undefined
    )
      throw new FerryError(
        'NO_SUPPORT',
        `Cannot ${what} ${this.name}: loopback hosts (testbed made without root) have no link of their own`,
      );
    return { switchNetns, switchIf: switchInterface, hostNetns: netns };
  }

  cut(): Promise<void> {
    return setLinkUp(this.#link('cut the link of'), false);
  }

  restore(): Promise<void> {
    return setLinkUp(this.#link('restore the link of'), true);
  }

  shape(rate: string | undefined): Promise<void> {
    return shapeLink(this.#link('shape the link of'), rate);
  }
}
