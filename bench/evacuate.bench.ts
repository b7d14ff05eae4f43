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
import { guestXml, waitForHeartbeat } from '../test/helpers/guest.js';
import { line, summarise } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const GUESTS = Number(process.env['BENCH_GUESTS'] ?? 10);
const MEMORY_MIB = 128;
const names = Array.from({ length: GUESTS }, (_, i) => `vm${i + 1}`);

interface Sample {
  wallMs: number;
  /** Downtime of each guest's migration (ms). */
  downtimes: number[];
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
  const t0 = performance.now();
  const out = await ok(h1, 'evacuate', 'h1', '--return', '--execute');
  const wallMs = performance.now() - t0;
  const downtimes = [...out.matchAll(/completed in [\d.]+ s \(downtime (\d+) ms\)/g)].map((m) =>
    Number(m[1]),
  );
  if (!new RegExp(`: ${GUESTS} moved, 0 failed`).test(out))
    throw new Error(`evacuate did not move every guest:\n${out}`);
  return { wallMs, downtimes };
}

/** The scripted loop: one `ferry migrate --live` at a time, alternating the two targets. */
async function sequentialLoop(h1: TestbedHost, targets: TestbedHost[]): Promise<Sample> {
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
  return { wallMs, downtimes };
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
    const serial = join(dir, `${name}.log`);
    const xml = join(dir, `${name}.xml`);
    writeFileSync(xml, guestXml({ name, memoryMiB: MEMORY_MIB, hbMs: 1000, serialLog: serial }));
    await ok(h1, 'define', xml);
    await ok(h1, 'start', name);
    await waitForHeartbeat(serial);
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
      line(`${v}: downtime per guest`, summarise(all), 'ms', 0) +
        ` (limit ${limitMs} ms; over it: ${all.filter((d) => d > limitMs).length} of ${all.length})`,
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
  rmSync(dir, { recursive: true, force: true });
}
console.log(report.join('\n'));
