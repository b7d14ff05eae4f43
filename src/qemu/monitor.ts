/**
 * The QMP vocabulary Ferry uses: a typed command map with QAPI's names verbatim, and thin
 * wrappers that turn replies into model types. The protocol itself lives in src/qmp.
 * @module
 */
import type { QmpClient } from '../qmp/index.js';

/** QAPI's RunState values that Ferry distinguishes. */
export type RunState =
  | 'running'
  | 'paused'
  | 'prelaunch'
  | 'inmigrate'
  | 'postmigrate'
  | 'finish-migrate'
  | 'shutdown'
  | 'guest-panicked'
  | 'internal-error'
  | 'io-error'
  | 'suspended'
  | 'watchdog'
  | 'debug'
  | 'restore-vm'
  | 'save-vm'
  | 'colo';

export interface StatusInfo {
  running: boolean;
  status: RunState;
}

export interface VersionInfo {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

export interface ChardevInfo {
  label: string;
  filename: string;
  'frontend-open': boolean;
}

/** Commands with their argument and return types, keys spelled exactly as in QAPI. */
export interface QmpCommands {
  'query-status': { args: undefined; ret: StatusInfo };
  'query-version': { args: undefined; ret: VersionInfo };
  'query-chardev': { args: undefined; ret: ChardevInfo[] };
  'query-cpus-fast': { args: undefined; ret: { 'cpu-index': number; 'thread-id': number }[] };
  cont: { args: undefined; ret: Record<string, never> };
  stop: { args: undefined; ret: Record<string, never> };
  system_powerdown: { args: undefined; ret: Record<string, never> };
  system_reset: { args: undefined; ret: Record<string, never> };
  'inject-nmi': { args: undefined; ret: Record<string, never> };
  quit: { args: undefined; ret: Record<string, never> };
}

/** A typed view over a {@link QmpClient}. */
export class Monitor {
  constructor(readonly qmp: QmpClient) {}

  /** Runs one command with typed arguments and reply. */
  execute<K extends keyof QmpCommands>(
    command: K,
    ...args: QmpCommands[K]['args'] extends undefined ? [] : [QmpCommands[K]['args']]
  ): Promise<QmpCommands[K]['ret']> {
    const [arg] = args as [Record<string, unknown>?];
    return this.qmp.execute<QmpCommands[K]['ret']>(command, arg);
  }

  queryStatus(): Promise<StatusInfo> {
    return this.execute('query-status');
  }

  /** Path of the pty behind a chardev (e.g. 'charserial0'), or undefined when not a pty. */
  async ptyPath(label: string): Promise<string | undefined> {
    const devs = await this.execute('query-chardev');
    const dev = devs.find((d) => d.label === label);
    return dev?.filename.startsWith('pty:') === true ? dev.filename.slice(4) : undefined;
  }
}
