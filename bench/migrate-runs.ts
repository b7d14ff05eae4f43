/**
 * One timed live migration of the benchmark guest per call, three ways: bare QMP between two
 * QEMU processes (the floor), `ferry migrate --live`, and libvirt's `virsh migrate --live
 * --p2p`. Each starts its clock just before the first thing it launches (the destination QEMU,
 * the `ferry` or `virsh` process) and stops it when the destination QEMU's connection to the
 * serial tap carries the guest's first heartbeat there: the guest runs on the destination.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseDomainXml } from '../src/domain/xml/index.js';
import type { JobStats } from '../src/rpc/schema/migration.js';
import { buildCommandLine } from '../src/qemu/index.js';
import { QmpClient } from '../src/qmp/index.js';
import { FERRY } from '../test/helpers/daemon.js';
import type { BenchDaemon } from './bench-daemon.js';
import { ferryXml, SETTLE_MS, type GuestKind } from './migrate-guest.js';
import { SerialTap } from './serial-tap.js';

export interface Sample {
  /** Start → first heartbeat from the destination QEMU: the guest runs there. */
  runningMs: number;
  /** Start → the command returned (bare QMP: no command, NaN). */
  returnedMs: number;
  /** Start → the driver saw the destination resume (bare: RESUME event; ferry: domain event). */
  resumedMs: number;
  /** Last heartbeat from the source → first from the destination (SerialTap.heartbeatGapMs). */
  gapMs: number;
  downtimeMs: number;
  totalMs: number;
  mib: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const HEARTBEAT = /FERRY-HB/;
const WAIT_MS = 60_000;

interface MigrateInfo {
  status?: string;
  downtime?: number;
  'total-time'?: number;
  ram?: { transferred: number };
}

/** Waits (woken by MIGRATION events) until the source's job completed with its statistics. */
async function completed(qmp: QmpClient): Promise<MigrateInfo> {
  for (;;) {
    const wake = qmp.waitForEvent('MIGRATION', { timeoutMs: 100 }).catch(() => undefined);
    const info = await qmp.execute<MigrateInfo>('query-migrate');
    // 'completed' shows a moment before total-time and downtime are filled in (stats.ts).
    if (info.status === 'completed' && (info['total-time'] ?? 0) > 0) return info;
    if (info.status === 'failed' || info.status === 'cancelled')
      throw new Error(`bare migration ${info.status}`);
    if (info.status !== 'completed') await wake;
  }
}

async function stopQemu(p: ReturnType<typeof spawn>, qmp: QmpClient): Promise<void> {
  qmp.close();
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await exited;
}

/**
 * Bare QEMU: both processes get the argv ferryd would give this guest (buildCommandLine), the
 * destination with `-incoming tcp:…` instead of `defer` and without -S, so it runs the guest
 * the moment the stream completes; the source gets Ferry's capabilities and parameters.
 */
export async function bareRun(dir: string, run: number, g: GuestKind): Promise<Sample> {
  const tap = await SerialTap.listen(join(dir, `b${run}.serial`));
  const { def } = parseDomainXml(ferryXml(`b${run}`, g, tap.path), { generateUuid: randomUUID });
  const port = 49300 + (run % 50);
  const argv = (side: string, incoming: boolean): string[] => {
    const args = buildCommandLine(def, {
      qmpSocket: join(dir, `b${run}${side}.qmp`),
      pidFile: join(dir, `b${run}${side}.pid`),
      startPaused: false,
      ...(incoming ? { incoming: 'defer' as const } : {}),
    });
    return args.map((a) => (a === 'defer' ? `tcp:127.0.0.1:${port}` : a));
  };
  const src = spawn('qemu-system-x86_64', argv('s', false), { stdio: 'ignore' });
  const srcQmp = await QmpClient.connect(join(dir, `b${run}s.qmp`), { waitForSocket: true });
  await sleep(SETTLE_MS);
  const t0 = performance.now();
  const dst = spawn('qemu-system-x86_64', argv('d', true), { stdio: 'ignore' });
  const dstQmp = await QmpClient.connect(join(dir, `b${run}d.qmp`), { waitForSocket: true });
  const resumed = dstQmp.waitForEvent('RESUME').then(() => performance.now());
  try {
    await srcQmp.execute('migrate-set-capabilities', {
      capabilities: [{ capability: 'events', state: true }],
    });
    await srcQmp.execute('migrate-set-parameters', {
      'downtime-limit': 300,
      'max-bandwidth': Number.MAX_SAFE_INTEGER,
    });
    const done = completed(srcQmp);
    await srcQmp.execute('migrate', { uri: `tcp:127.0.0.1:${port}` });
    const conn = await tap.waitFor(1, HEARTBEAT, WAIT_MS);
    const info = await done;
    return {
      runningMs: (conn.firstDataAt ?? NaN) - t0,
      gapMs: tap.heartbeatGapMs(),
      returnedMs: NaN,
      resumedMs: (await resumed) - t0,
      downtimeMs: info.downtime ?? NaN,
      totalMs: info['total-time'] ?? NaN,
      mib: (info.ram?.transferred ?? 0) / 1048576,
    };
  } finally {
    await stopQemu(src, srcQmp);
    await stopQemu(dst, dstQmp);
    await tap.close();
  }
}

/** Resolves with performance.now() when the child exits; rejects on a non-zero exit. */
export function exitOf(child: ReturnType<typeof spawn>, what: string): Promise<number> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const at = performance.now();
      if (code === 0) resolve(at);
      else reject(new Error(`${what} exited ${String(code)}: ${stderr.trim()}`));
    });
  });
}

export function statsSample(s: JobStats): Pick<Sample, 'downtimeMs' | 'totalMs' | 'mib'> {
  return {
    downtimeMs: s.totalDowntimeMs ?? NaN,
    totalMs: s.timeElapsedMs ?? NaN,
    mib: (s.dataProcessed ?? 0) / 1048576,
  };
}

/** `ferry migrate --live` from ferryd `a` to ferryd `b` (subscribed to domain events). */
export async function ferryRun(
  a: BenchDaemon,
  b: BenchDaemon,
  run: number,
  g: GuestKind,
): Promise<Sample> {
  const name = `m${run}`;
  const tap = await SerialTap.listen(join(a.dir, `${name}.serial`));
  try {
    await a.client.call('domain.create', { xml: ferryXml(name, g, tap.path) });
    await sleep(SETTLE_MS);
    let resumedAt = NaN;
    const stop = b.client.onNotification('domain.event', (raw) => {
      const ev = raw as { name?: string; event?: string };
      if (ev.name === name && ev.event === 'resumed' && Number.isNaN(resumedAt))
        resumedAt = performance.now();
    });
    const t0 = performance.now();
    const cli = spawn(process.execPath, [FERRY, '-c', a.uri, 'migrate', '--live', name, b.uri], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = exitOf(cli, 'ferry migrate');
    const conn = await tap.waitFor(1, HEARTBEAT, WAIT_MS);
    const returnedAt = await exited;
    stop();
    const stats = await b.client.call('job.info', { domain: name, completed: true });
    await b.client.call('domain.destroy', { domain: name });
    return {
      runningMs: (conn.firstDataAt ?? NaN) - t0,
      gapMs: tap.heartbeatGapMs(),
      returnedMs: returnedAt - t0,
      resumedMs: resumedAt - t0,
      ...statsSample(stats),
    };
  } finally {
    await tap.close();
  }
}
