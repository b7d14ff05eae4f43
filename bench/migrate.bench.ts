/**
 * Live migration end to end, three ways in the same run, rounds rotating their order so each
 * sees the same noise: a bare QMP migration between two QEMU processes (the floor),
 * `ferry migrate --live` between two ferryd, and `virsh migrate --live --p2p` between two
 * libvirtd (when libvirt can be set up here). Same 512 MiB guest, idle and dirtying, stream
 * bandwidth unlimited everywhere. The metric is start → guest running on the destination, seen
 * by the guest's first heartbeat there (migrate-runs.ts); the time until the command returns
 * is reported beside it. Targets: ferry/bare ≤ 1.2, ferry/libvirt ≤ 0.7 with lower downtime.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchDaemon } from './bench-daemon.js';
import {
  libvirtRun,
  libvirtUnavailable,
  setUpLibvirt,
  tearDownLibvirt,
} from './migrate-libvirt.js';
import { GUESTS, MEMORY_MIB, type GuestKind } from './migrate-guest.js';
import { bareRun, ferryRun, type Sample } from './migrate-runs.js';
import { line, summarise, type Summary } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
type Variant = 'bare' | 'ferry' | 'libvirt';

function machine(): string {
  const qemus = execFileSync('sh', ['-c', 'pgrep -c qemu-system || true'], { encoding: 'utf8' });
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return `load average ${load}; qemu-system processes running: ${qemus.trim()}`;
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-mig-bench-'));
const a = await startBenchDaemon('ferry-mig-a-');
const b = await startBenchDaemon('ferry-mig-b-');
await b.client.call('events.subscribe', {});
let why = libvirtUnavailable();
if (why === undefined) {
  try {
    setUpLibvirt();
  } catch (err) {
    why = err instanceof Error ? err.message : String(err);
  }
}
const variants: Variant[] = why === undefined ? ['bare', 'ferry', 'libvirt'] : ['bare', 'ferry'];
const report: string[] = [`machine at start: ${machine()}`];
if (why !== undefined) report.push(`libvirt: skipped — ${why}`);

function runOne(v: Variant, run: number, g: GuestKind): Promise<Sample> {
  switch (v) {
    case 'bare':
      return bareRun(dir, run, g);
    case 'ferry':
      return ferryRun(a, b, run, g);
    case 'libvirt':
      return libvirtRun(dir, run, g);
  }
}

try {
  let runId = 0;
  for (const g of GUESTS) {
    const samples: Record<Variant, Sample[]> = { bare: [], ferry: [], libvirt: [] };
    for (let run = 0; run < RUNS; run++) {
      // Rotate the order, so no variant always runs first (or right after another).
      const order = variants.map((_, i) => variants[(i + run) % variants.length] as Variant);
      for (const v of order) samples[v].push(await runOne(v, runId++, g));
    }
    const s = (v: Variant, k: keyof Sample): Summary => summarise(samples[v].map((x) => x[k]));
    const rows: [string, keyof Sample, string, number][] = [
      ['start → guest runs on destination', 'runningMs', 'ms', 0],
      ['start → command returned', 'returnedMs', 'ms', 0],
      ["start → driver's own resume seen", 'resumedMs', 'ms', 0],
      ['heartbeat gap (guest-visible pause)', 'gapMs', 'ms', 0],
      ['downtime, as the driver reports it', 'downtimeMs', 'ms', 0],
      ['job time, as the driver reports it', 'totalMs', 'ms', 0],
      ['data', 'mib', 'MiB', 1],
    ];
    report.push(`-- ${MEMORY_MIB} MiB guest, ${g.label}`);
    for (const [label, key, unit, digits] of rows) {
      for (const v of variants) {
        const sum = s(v, key);
        if (!Number.isNaN(sum.median)) report.push(line(`${v}: ${label}`, sum, unit, digits));
      }
    }
    const ratio = (x: Variant, k: keyof Sample, y: Variant): string =>
      (s(x, k).median / s(y, k).median).toFixed(3);
    report.push(
      `ratio of medians, guest running: ferry/bare ${ratio('ferry', 'runningMs', 'bare')} (target ≤ 1.2)`,
    );
    if (variants.includes('libvirt')) {
      report.push(
        `ratio of medians, guest running: ferry/libvirt ${ratio('ferry', 'runningMs', 'libvirt')} (target ≤ 0.7); command returned: ferry/libvirt ${ratio('ferry', 'returnedMs', 'libvirt')}`,
        `downtime medians, ferry vs libvirt (target: ferry lower): reported ${s('ferry', 'downtimeMs').median} vs ${s('libvirt', 'downtimeMs').median} ms, heartbeat gap ${s('ferry', 'gapMs').median.toFixed(0)} vs ${s('libvirt', 'gapMs').median.toFixed(0)} ms`,
      );
    }
    report.push('per run (ms: running / returned / gap / downtime / job time; MiB):');
    for (const v of variants) {
      const cells = samples[v].map(
        (x) =>
          `${x.runningMs.toFixed(0)}/${Number.isNaN(x.returnedMs) ? '-' : x.returnedMs.toFixed(0)}/${x.gapMs.toFixed(0)}/${x.downtimeMs}/${x.totalMs}/${x.mib.toFixed(1)}`,
      );
      report.push(`  ${v.padEnd(8)} ${cells.join('  ')}`);
    }
  }
  report.push(`machine at end: ${machine()}`);
  console.log(report.join('\n'));
} finally {
  await a.stop();
  await b.stop();
  if (variants.includes('libvirt')) tearDownLibvirt();
  rmSync(dir, { recursive: true, force: true });
}
