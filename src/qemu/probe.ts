/**
 * What a QEMU binary offers guests (machine types, CPU models and what the accelerator can run
 * of them), asked from a throwaway `-machine none` QEMU over QMP and cached per binary and
 * version, as libvirt's capabilities cache does: a probe costs ~300 ms, a cache hit ~1 ms.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { FerryError, messageOf } from '../common/errors.js';
import { QemuProcess, tailLog } from './process.js';
import type { Accelerator } from './command-line.js';

export interface QemuMachineType {
  /** 'pc-i440fx-7.2', 'pc-q35-7.2', 'none' … */
  name: string;
  /** The short name that points here ('pc', 'q35'), when there is one. */
  alias?: string;
  isDefault: boolean;
  deprecated: boolean;
}

export interface QemuCpuDefinition {
  /** QEMU's model name ('Westmere', 'Westmere-v1', 'max'). */
  name: string;
  /** Features this accelerator lacks for the model; empty means it can run here. */
  unavailableFeatures: string[];
  /** The versioned model an alias resolves to ('Westmere' → 'Westmere-v1'). */
  aliasOf?: string;
  migrationSafe: boolean;
  deprecated: boolean;
}

/** The facts Ferry needs from one QEMU binary under one accelerator. */
export interface QemuHostFacts {
  binary: string;
  /** '7.2.22' */
  version: string;
  accel: Accelerator;
  machines: QemuMachineType[];
  cpuDefinitions: QemuCpuDefinition[];
  /** Every property of the `max` CPU model fully expanded (`query-cpu-model-expansion`). */
  maxCpu: { name: string; props: Record<string, boolean | number | string> };
  probedAt: string;
}

interface CacheKey {
  binary: string;
  size: number;
  mtimeMs: number;
  accel: Accelerator;
}

interface CacheFile {
  key: CacheKey;
  facts: QemuHostFacts;
}

const PROBE_TIMEOUT_MS = 20_000;

/**
 * Where `binary` is: itself when it names a path, else the first match on $PATH (how QEMU is
 * spawned), so that a bare 'qemu-system-x86_64' (ferryd's default) can be stat'ed for the cache.
 */
function onPath(binary: string): string {
  if (binary.includes('/')) return binary;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  return binary;
}

/** Probes running now, by cache file and key. */
const inflight = new Map<string, Promise<QemuHostFacts>>();

/**
 * The facts of `binary` under `accel`, from `cacheDir` when the binary's size and mtime match
 * what was probed before; otherwise probed and written back (atomically).
 */
export async function qemuHostFacts(
  binary: string,
  accel: Accelerator,
  cacheDir: string,
): Promise<QemuHostFacts> {
  let st;
  try {
    st = statSync(onPath(binary));
  } catch (err) {
    throw new FerryError('SYSTEM_ERROR', `Cannot find QEMU binary '${binary}': ${messageOf(err)}`, {
      cause: err,
    });
  }
  const key: CacheKey = { binary, size: st.size, mtimeMs: st.mtimeMs, accel };
  const file = join(cacheDir, `qemu-${accel}-${binary.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (JSON.stringify(cached.key) === JSON.stringify(key)) return cached.facts;
  } catch {
    // absent or unreadable: probe again
  }
  // Callers that miss the cache at the same time share one probe.
  const inflightKey = `${file}\n${JSON.stringify(key)}`;
  let probing = inflight.get(inflightKey);
  if (probing === undefined) {
    probing = probeQemu(binary, accel).finally(() => inflight.delete(inflightKey));
    inflight.set(inflightKey, probing);
  }
  const facts = await probing;
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  // Unique per call: two probes of one ferryd (two preflights at once) must not share it.
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, JSON.stringify({ key, facts } satisfies CacheFile), { mode: 0o600 });
  renameSync(tmp, file);
  return facts;
}

/** Asks a fresh `-machine none` QEMU; it is always stopped before this returns. */
export async function probeQemu(binary: string, accel: Accelerator): Promise<QemuHostFacts> {
  // A directory of its own: two probes started in the same millisecond (a preflight's CPU and
  // machine checks on a fresh cache) once shared one, and the first removed the second's socket.
  const dir = mkdtempSync(join(tmpdir(), 'ferry-probe-'));
  const qmpSocket = join(dir, 'qmp.sock');
  const logFile = join(dir, 'qemu.log');
  let proc: QemuProcess | undefined;
  try {
    proc = await QemuProcess.launch({
      binary,
      args: [
        '-machine',
        `none,accel=${accel}`,
        '-nodefaults',
        '-no-user-config',
        '-display',
        'none',
        '-S',
        '-qmp',
        `unix:${qmpSocket},server=on,wait=off`,
      ],
      logFile,
      qmpSocket,
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    const qmp = proc.qmp;
    const opts = { timeoutMs: PROBE_TIMEOUT_MS };
    const version = await qmp.execute<{ qemu: { major: number; minor: number; micro: number } }>(
      'query-version',
      undefined,
      opts,
    );
    const machines = await qmp.execute<RawMachine[]>('query-machines', undefined, opts);
    const defs = await qmp.execute<RawCpuDefinition[]>('query-cpu-definitions', undefined, opts);
    const max = await qmp.execute<{ model: { name: string; props?: Record<string, unknown> } }>(
      'query-cpu-model-expansion',
      { type: 'full', model: { name: 'max' } },
      opts,
    );
    const { major, minor, micro } = version.qemu;
    return {
      binary,
      version: `${major}.${minor}.${micro}`,
      accel,
      machines: machines.map(machineOf).sort((a, b) => a.name.localeCompare(b.name)),
      cpuDefinitions: defs.map(cpuDefinitionOf),
      maxCpu: { name: max.model.name, props: scalarProps(max.model.props ?? {}) },
      probedAt: new Date().toISOString(),
    };
  } catch (err) {
    const said = tailLog(logFile, 2);
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot probe QEMU binary '${binary}': ${messageOf(err)}${said === '' ? '' : ` (${said})`}`,
      { cause: err },
    );
  } finally {
    if (proc !== undefined) {
      await proc.qmp.execute('quit', undefined, { timeoutMs: 5_000 }).catch(() => undefined);
      const exited = await Promise.race([
        proc.exited.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 5_000)),
      ]);
      if (!exited) process.kill(proc.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RawMachine {
  name: string;
  alias?: string;
  'is-default'?: boolean;
  deprecated?: boolean;
}

interface RawCpuDefinition {
  name: string;
  'unavailable-features'?: string[];
  'alias-of'?: string;
  'migration-safe'?: boolean;
  deprecated?: boolean;
}

function machineOf(m: RawMachine): QemuMachineType {
  return {
    name: m.name,
    ...(m.alias === undefined ? {} : { alias: m.alias }),
    isDefault: m['is-default'] === true,
    deprecated: m.deprecated === true,
  };
}

function cpuDefinitionOf(d: RawCpuDefinition): QemuCpuDefinition {
  return {
    name: d.name,
    unavailableFeatures: d['unavailable-features'] ?? [],
    ...(d['alias-of'] === undefined ? {} : { aliasOf: d['alias-of'] }),
    migrationSafe: d['migration-safe'] === true,
    deprecated: d.deprecated === true,
  };
}

function scalarProps(props: Record<string, unknown>): Record<string, boolean | number | string> {
  const out: Record<string, boolean | number | string> = {};
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * The machine type QEMU will really run for `machine` ('pc' → 'pc-i440fx-7.2'), or undefined
 * when this QEMU does not offer it.
 */
export function resolveMachine(facts: QemuHostFacts, machine: string): QemuMachineType | undefined {
  return facts.machines.find((m) => m.name === machine || m.alias === machine);
}
