/**
 * Evacuating a host (issue #8): 10 small guests off h1 onto h2 and h3 of a three-host testbed,
 * Ferry's plan executed (`ferry evacuate h1 --return --execute`: planned, then moved several
 * at a time) against the loop a person would script around virsh, one `ferry migrate --live
 * --persistent --undefinesource` after another, spreading them over h2 and h3 in turn. Rounds
 * alternate which goes first; between runs the guests are brought home untimed. Reported:
 * wall clock of each (planning included for Ferry), and each guest's downtime against the
 * limit it migrates under (migrate-getmaxdowntime). Target: Ferry ≥ 2× faster.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestbed, type TestbedHost } from '../src/testbed/index.js';
import { guestXml } from '../test/helpers/guest.js';
import { SerialTap } from './serial-tap.js';
import { line, summarise } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const GUESTS = Number(process.env['BENCH_GUESTS'] ?? 10);
const MEMORY_MIB = 128;
const names = Array.from({ length: GUESTS }, (_, i) => `vm${i + 1}`);

interface Sample {
  wallMs: number;
  /** Downtime of each guest's migration (ms), as QEMU reported it. */
  downtimes: number[];
  /** Each guest's pause as the guest's own heartbeats show it (ms). */
  gaps: number[];
}

/** Each guest's serial port, a unix socket (serial-tap.ts): one connection per QEMU that ran it. */
const taps = new Map<string, SerialTap>();
/**
 * The guests' heartbeat period: 1 s by default; `BENCH_HB_MS=20` also gives each guest's
 * pause as it saw it (to ± one period), at the price of ten guests waking 50 times a second.
 */
const HEARTBEAT_MS = Number(process.env['BENCH_HB_MS'] ?? 1000);

/** Where each guest's tap connections stand before a timed variant. */
function tapMarks(): Map<string, number> {
  return new Map([...taps].map(([name, tap]) => [name, tap.connections.length]));
}

/**
 * Each guest's heartbeat gap across the one migration since `marks`: the last heartbeat through
 * the source QEMU → the first through the destination's.
 */
async function heartbeatGaps(marks: Map<string, number>): Promise<number[]> {
  const gaps: number[] = [];
  for (const [name, tap] of taps) {
    const index = marks.get(name) ?? 0;
    const dst = await tap.waitFor(index, /FERRY-HB/, 30_000);
    const src = tap.connections[index - 1];
    gaps.push((dst.firstDataAt ?? NaN) - (src?.lastDataAt ?? NaN));
  }
  return gaps;
}

async function ok(host: TestbedHost, ...args: string[]): Promise<string> {
  const r = await host.ferry(...args);
  if (r.code !== 0) throw new Error(`ferry ${args.join(' ')} on ${host.name}: ${r.stderr}`);
  return r.stdout;
}

/** Which guests each host runs. */
async function running(host: TestbedHost): Promise<string[]> {
  return (await ok(host, 'list', '--name')).split('\n').filter((n) => n.trim() !== '');
}

/** `ferry evacuate h1 --return --execute`; downtimes from its per-move lines. */
async function ferryPlan(h1: TestbedHost): Promise<Sample> {
  const marks = tapMarks();
  const t0 = performance.now();
  const out = await ok(h1, 'evacuate', 'h1', '--return', '--execute');
  const wallMs = performance.now() - t0;
  const downtimes = [...out.matchAll(/completed in [\d.]+ s \(downtime (\d+) ms\)/g)].map((m) =>
    Number(m[1]),
  );
  if (!new RegExp(`: ${GUESTS} moved, 0 failed`).test(out))
    throw new Error(`evacuate did not move every guest:\n${out}`);
  return { wallMs, downtimes, gaps: await heartbeatGaps(marks) };
}

/** The scripted loop: one `ferry migrate --live` at a time, alternating the two targets. */
async function sequentialLoop(h1: TestbedHost, targets: TestbedHost[]): Promise<Sample> {
  const marks = tapMarks();
  const t0 = performance.now();
  for (const [i, name] of names.entries()) {
    const to = targets[i % targets.length] as TestbedHost;
    await ok(h1, 'migrate', '--live', '--persistent', '--undefinesource', name, to.tcpUri);
  }
  const wallMs = performance.now() - t0;
  const downtimes: number[] = [];
  for (const [i, name] of names.entries()) {
    const to = targets[i % targets.length] as TestbedHost;
    const info = await ok(to, 'domjobinfo', name, '--completed');
    const m = /Total downtime:\s+(\d+)\s+ms/.exec(info);
    if (m !== null) downtimes.push(Number(m[1]));
  }
  return { wallMs, downtimes, gaps: await heartbeatGaps(marks) };
}

/** Brings every guest home to h1 (untimed). */
async function bringHome(h1: TestbedHost, others: TestbedHost[], undo: boolean): Promise<void> {
  if (undo) {
    await ok(h1, 'evacuate', '--undo', 'h1', '--execute');
    return;
  }
  for (const h of others)
    for (const name of await running(h))
      await ok(h, 'migrate', '--live', '--persistent', '--undefinesource', name, h1.tcpUri);
}

const tb = await createTestbed({ hosts: 3 });
const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-evacuate-'));
const report: string[] = [
  `machine at start: load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; testbed ${tb.name}`,
];
try {
  const [h1, h2, h3] = tb.hosts as [TestbedHost, TestbedHost, TestbedHost];
  await ok(h1, 'fleet', 'add', h1.tcpUri, h2.tcpUri, h3.tcpUri);
  for (const name of names) {
    const tap = await SerialTap.listen(join(dir, `${name}.serial`));
    taps.set(name, tap);
    const xml = join(dir, `${name}.xml`);
    const serial = `<serial type='unix'><source mode='connect' path='${tap.path}'/><target port='0'/></serial>`;
    writeFileSync(
      xml,
      guestXml({ name, memoryMiB: MEMORY_MIB, hbMs: HEARTBEAT_MS, serialLog: '' }).replace(
        /<serial type='file'>[\s\S]*?<\/serial>/,
        serial,
      ),
    );
    await ok(h1, 'define', xml);
    await ok(h1, 'start', name);
    await tap.waitFor(0, /FERRY-HB/, 60_000);
  }
  const limitMs = Number((await ok(h1, 'migrate-getmaxdowntime', 'vm1')).trim());
  const samples: Record<'ferry' | 'loop', Sample[]> = { ferry: [], loop: [] };
  for (let run = 0; run < RUNS; run++) {
    const order: ('ferry' | 'loop')[] = run % 2 === 0 ? ['ferry', 'loop'] : ['loop', 'ferry'];
    for (const v of order) {
      if (v === 'ferry') samples.ferry.push(await ferryPlan(h1));
      else samples.loop.push(await sequentialLoop(h1, [h2, h3]));
      await bringHome(h1, [h2, h3], v === 'ferry');
    }
  }
  const ferry = summarise(samples.ferry.map((s) => s.wallMs));
  const loop = summarise(samples.loop.map((s) => s.wallMs));
  report.push(`-- evacuate ${GUESTS} idle ${MEMORY_MIB} MiB guests from h1 onto h2 and h3`);
  report.push(line('ferry evacuate --execute (plan included)', ferry, 'ms', 0));
  report.push(line('loop of ferry migrate --live', loop, 'ms', 0));
  report.push(
    `speed-up, ratio of medians loop/ferry: ${(loop.median / ferry.median).toFixed(2)} (target ≥ 2)`,
  );
  for (const v of ['ferry', 'loop'] as const) {
    const all = samples[v].flatMap((s) => s.downtimes);
    report.push(
      line(`${v}: downtime per guest (QEMU)`, summarise(all), 'ms', 0) +
        ` (limit ${limitMs} ms; over it: ${all.filter((d) => d > limitMs).length} of ${all.length})`,
    );
    const gaps = samples[v].flatMap((s) => s.gaps);
    // A gap is only as fine as the heartbeat period: not worth showing at the 1 s default.
    if (HEARTBEAT_MS <= 50)
      report.push(
        line(`${v}: heartbeat gap per guest`, summarise(gaps), 'ms', 0) +
          ` (over ${limitMs} ms: ${gaps.filter((d) => d > limitMs).length} of ${gaps.length})`,
      );
  }
  // What --auto did in Ferry's moves (raised the max downtime, auto-converge, post-copy).
  const steps = new Map<string, number>();
  for (const h of tb.hosts)
    for (const l of h.ferrydLog().split('\n')) {
      if (!l.includes('"step":')) continue;
      const step = (JSON.parse(l) as { step?: string }).step ?? '?';
      steps.set(step, (steps.get(step) ?? 0) + 1);
    }
  report.push(
    `--auto steps in Ferry's moves: ${steps.size === 0 ? 'none' : [...steps].map(([k, n]) => `${n}× ${k}`).join('; ')}`,
  );
  report.push(
    `per run (ms): ferry ${samples.ferry.map((s) => s.wallMs.toFixed(0)).join(' ')}; loop ${samples.loop.map((s) => s.wallMs.toFixed(0)).join(' ')}`,
  );
} finally {
  await tb.down();
  for (const tap of taps.values()) await tap.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(report.join('\n'));
