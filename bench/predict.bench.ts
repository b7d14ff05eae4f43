/**
 * The migration-time prediction against real migrations (issue #6): a 256 MiB guest with a
 * 64 MiB working set rewritten at 0, 5 and 10 MiB/s, migrated live between two testbed hosts
 * over an unshaped link and over `tc tbf` 200 mbit and 64 mbit. Before each migration the
 * inputs are measured as the preflight does: the link (src/preflight/link.ts, run inside the
 * source host), the dirty rate (QEMU page-sampling, src/qemu/dirty-rate.ts, over a second QMP
 * monitor) and the resident guest RAM (src/preflight/resident.ts); then predictMigration, then
 * `ferry migrate --live` timed by the wall clock, its downtime from domjobinfo --completed.
 * A prediction of no convergence is reported and not run (it would never end).
 * BENCH_RUNS (default 3) migrations per cell, alternating direction.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureDirtyRate } from '../src/qemu/dirty-rate.js';
import { QmpClient } from '../src/qmp/index.js';
import { predictMigration, type Prediction } from '../src/preflight/predict.js';
import type { LinkMeasurement } from '../src/preflight/link.js';
import { residentGuestBytes } from '../src/preflight/resident.js';
import { createTestbed, type TestbedHost } from '../src/testbed/index.js';
import { guestXml, waitForConsole } from '../test/helpers/guest.js';
import { measureLinkBetween } from '../test/helpers/measure-link.js';
import { jobBytes, jobField } from '../test/helpers/migration.js';
import { summarise } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const MEMORY_MIB = 256;
const WORKING_SET_MIB = 64;
const MiB = 1024 * 1024;
const RATES = (process.env['BENCH_RATES'] ?? '0,5,10').split(',').map(Number);
const SHAPES = (process.env['BENCH_SHAPES'] ?? 'none,200mbit,64mbit').split(',');
const LINK_SECONDS = 3;
const DIRTY_SECONDS = 2;
const MAX_DOWNTIME_MS = 300;
const NO_CONVERGENCE_S = 40;

interface Run {
  link: LinkMeasurement;
  dirtyMiBs: number;
  residentMiB: number;
  prediction: Prediction;
  wallMs?: number;
  jobMs?: number;
  downtimeMs?: number;
  /** What QEMU sent as normal pages (domjobinfo Normal data), and its iterations. */
  normalMiB?: number;
  iterations?: number;
  /** CLI start to the source's 'migration started' (connect, prepare), and after QEMU's job. */
  startMs?: number;
  finishMs?: number;
  /** When no convergence was predicted: the migration run with --timeout NO_CONVERGENCE_S. */
  timeoutWallMs?: number;
  timeoutJobMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function dirtyRate(qmpPath: string): Promise<number> {
  const qmp = await QmpClient.connect(qmpPath);
  try {
    return (await measureDirtyRate(qmp, DIRTY_SECONDS)).megabytesPerSecond ?? NaN;
  } finally {
    qmp.close();
  }
}

async function oneRun(
  name: string,
  uuid: string,
  qmpName: string,
  src: TestbedHost,
  dst: TestbedHost,
): Promise<Run> {
  const link = await measureLinkBetween(src, dst, LINK_SECONDS);
  const dirtyMiBs = await dirtyRate(join(src.paths.runDir, qmpName));
  const pid = Number(readFileSync(join(src.paths.runDir, `${uuid}.pid`), 'utf8').trim());
  const resident = residentGuestBytes(pid, MEMORY_MIB * MiB);
  const prediction = predictMigration({
    memoryBytes: MEMORY_MIB * MiB,
    residentBytes: resident,
    bandwidthBytesPerSecond: link.bytesPerSecond,
    dirtyBytesPerSecond: dirtyMiBs * MiB,
    maxDowntimeMs: MAX_DOWNTIME_MS,
    autoConverge: false,
    postcopy: false,
  });
  const run: Run = { link, dirtyMiBs, residentMiB: resident / MiB, prediction };
  if (!prediction.converges) {
    // Checked once: still copying after NO_CONVERGENCE_S, when --timeout suspends the guest.
    const t0 = performance.now();
    const r = await src.ferry(
      'migrate',
      '--live',
      '--persistent',
      '--undefinesource',
      '--timeout',
      String(NO_CONVERGENCE_S),
      name,
      dst.tcpUri,
    );
    run.timeoutWallMs = performance.now() - t0;
    if (r.code !== 0) throw new Error(`migrate ${src.name} → ${dst.name}: ${r.stderr}`);
    const info = await dst.ferryOk('domjobinfo', name, '--completed');
    run.timeoutJobMs = Number(jobField(info, 'Time elapsed')?.replace(/ ms$/, ''));
    run.downtimeMs = Number(jobField(info, 'Total downtime')?.replace(/ ms$/, ''));
    return run;
  }
  const logFrom = src.ferrydLog().length;
  const epoch = Date.now();
  const t0 = performance.now();
  const r = await src.ferry(
    'migrate',
    '--live',
    '--persistent',
    '--undefinesource',
    name,
    dst.tcpUri,
  );
  run.wallMs = performance.now() - t0;
  if (r.code !== 0) throw new Error(`migrate ${src.name} → ${dst.name}: ${r.stderr}`);
  const info = await dst.ferryOk('domjobinfo', name, '--completed');
  run.jobMs = Number(jobField(info, 'Time elapsed')?.replace(/ ms$/, ''));
  run.downtimeMs = Number(jobField(info, 'Total downtime')?.replace(/ ms$/, ''));
  run.normalMiB = (jobBytes(info, 'Normal data') ?? NaN) / MiB;
  run.iterations = Number(jobField(info, 'Iteration'));
  const started = src
    .ferrydLog()
    .slice(logFrom)
    .split('\n')
    .map((l) => (l.includes('"migration started"') ? (JSON.parse(l) as { time: number }).time : 0))
    .find((x) => x > 0);
  if (started !== undefined) {
    run.startMs = started - epoch;
    run.finishMs = run.wallMs - run.startMs - run.jobMs;
  }
  return run;
}

const f0 = (x: number | undefined): string =>
  x === undefined || Number.isNaN(x) ? '-' : x.toFixed(0);
const pct = (p: number, m: number): string =>
  `${p >= m ? '+' : ''}${((100 * (p - m)) / m).toFixed(0)}%`;

function row(rate: number, shape: string, runs: Run[]): string {
  const med = (xs: (number | undefined)[]): number =>
    summarise(xs.filter((x): x is number => x !== undefined)).median;
  const link = med(runs.map((r) => r.link.bytesPerSecond / MiB));
  const dirty = med(runs.map((r) => r.dirtyMiBs));
  const resident = med(runs.map((r) => r.residentMiB));
  const inputs = `${String(rate).padStart(3)} | ${shape.padEnd(7)} | ${link.toFixed(1).padStart(6)} | ${dirty.toFixed(1).padStart(5)} | ${resident.toFixed(0).padStart(4)}`;
  const ran = runs.filter((r) => r.wallMs !== undefined);
  if (ran.length === 0) {
    const r = runs[0];
    const verdict =
      r?.timeoutJobMs === undefined
        ? 'not run'
        : r.timeoutJobMs >= NO_CONVERGENCE_S * 1000
          ? `measured: still copying after ${NO_CONVERGENCE_S} s, finished by --timeout suspending the guest (job ${f0(r.timeoutJobMs)} ms, downtime ${f0(r.downtimeMs)} ms)`
          : `measured: converged by itself in ${f0(r.timeoutJobMs)} ms (prediction wrong)`;
    return `${inputs} | predicted: no convergence (${r?.prediction.reason ?? ''}); ${verdict}`;
  }
  const predicted = med(ran.map((r) => r.prediction.totalMs));
  const wall = summarise(ran.map((r) => r.wallMs ?? NaN));
  const job = med(ran.map((r) => r.jobMs));
  const pDown = med(ran.map((r) => r.prediction.downtimeMs));
  const mDown = summarise(ran.map((r) => r.downtimeMs ?? NaN));
  const passes = med(ran.map((r) => r.prediction.passes));
  return [
    inputs,
    f0(passes).padStart(2),
    f0(predicted).padStart(6),
    `${f0(wall.min)}/${f0(wall.median)}/${f0(wall.max)}`.padStart(17),
    f0(job).padStart(6),
    pct(predicted, wall.median).padStart(5),
    f0(pDown).padStart(4),
    `${f0(mDown.min)}/${f0(mDown.median)}/${f0(mDown.max)}`.padStart(12),
    `${ran.length}${ran.length < runs.length ? ` of ${runs.length}` : ''}`,
  ].join(' | ');
}

/** What the model's constants come from: fixed costs, normal pages, QEMU's stream rate. */
function calibration(rate: number, shape: string, runs: Run[]): string | undefined {
  const ran = runs.filter((r) => r.jobMs !== undefined);
  if (ran.length === 0) return undefined;
  const med = (xs: (number | undefined)[]): string =>
    summarise(xs.filter((x): x is number => x !== undefined && !Number.isNaN(x))).median.toFixed(0);
  return [
    `${String(rate).padStart(3)} | ${shape.padEnd(7)}`,
    `start ${med(ran.map((r) => r.startMs))} ms`,
    `finish ${med(ran.map((r) => r.finishMs))} ms`,
    `normal data ${med(ran.map((r) => r.normalMiB))} MiB (predicted resident ${med(ran.map((r) => r.residentMiB))})`,
    `iterations ${med(ran.map((r) => r.iterations))}`,
    `stream ${med(ran.map((r) => ((r.normalMiB ?? NaN) * 1000) / (r.jobMs ?? NaN)))} MiB/s`,
  ].join(' | ');
}

const tb = await createTestbed({
  hosts: 2,
  names: ['src', 'dst'],
  extraConfig: 'allow_qemu_commandline = 1\n',
});
const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-predict-'));
const report: string[] = [
  `machine at start: load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      ' ',
    )}; testbed ${tb.name}; ${MEMORY_MIB} MiB guest, ${WORKING_SET_MIB} MiB working set, max downtime ${MAX_DOWNTIME_MS} ms, ${RUNS} runs per cell`,
  'dirty MiB/s | link | measured link MiB/s | measured dirty MiB/s | resident MiB | passes | predicted ms | ferry migrate wall ms min/median/max | job ms (QEMU) | error | predicted downtime ms | measured downtime min/median/max | n',
];
const calibrations: string[] = [];
try {
  const [a, b] = tb.hosts as [TestbedHost, TestbedHost];
  for (const rate of RATES) {
    const name = `p${rate}`;
    const uuid = randomUUID();
    // Inside each host /run/ferry is its own (paths.runDir seen from here).
    const qmpName = `${name}.bench-qmp`;
    const serial = join(dir, `${name}.log`);
    // A second QMP monitor for the dirty-rate measurement (ferryd holds the first), in the
    // run directory of whichever host runs the guest (a QEMU removes its socket as it ends).
    const xml = guestXml({
      name,
      uuid,
      memoryMiB: MEMORY_MIB,
      dirtyMiB: WORKING_SET_MIB,
      dirtyRate: rate,
      serialLog: serial,
    })
      .replace(
        "<domain type='qemu'",
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'",
      )
      .replace(
        '</domain>',
        `<qemu:commandline><qemu:arg value='-qmp'/><qemu:arg value='unix:/run/ferry/${qmpName},server=on,wait=off'/></qemu:commandline></domain>`,
      );
    writeFileSync(join(dir, `${name}.xml`), xml);
    await a.ferryOk('define', join(dir, `${name}.xml`));
    await a.ferryOk('start', name);
    await waitForConsole(serial, /FERRY-MEM filled/, 120_000);
    await sleep(3000);
    let here = a;
    let there = b;
    for (const shape of SHAPES) {
      const rateArg = shape === 'none' ? undefined : shape;
      await a.shape(rateArg);
      await b.shape(rateArg);
      const runs: Run[] = [];
      for (let i = 0; i < RUNS; i++) {
        const run = await oneRun(name, uuid, qmpName, here, there);
        runs.push(run);
        process.stderr.write(`${name} ${shape} #${i + 1}: ${JSON.stringify(run)}\n`);
        if (run.wallMs === undefined) {
          // No convergence predicted: checked once with --timeout, which moved the guest.
          if (run.timeoutJobMs !== undefined) [here, there] = [there, here];
          break;
        }
        [here, there] = [there, here];
        await sleep(2000);
      }
      report.push(row(rate, shape, runs));
      console.log(report.at(-1));
      const cal = calibration(rate, shape, runs);
      if (cal !== undefined) calibrations.push(cal);
    }
    await a.shape(undefined);
    await b.shape(undefined);
    await here.ferryOk('destroy', name);
    await here.ferryOk('undefine', name);
  }
  report.push('calibration (medians):', ...calibrations);
  report.push(
    `machine at end: load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(report.join('\n'));
} finally {
  await tb.down();
  rmSync(dir, { recursive: true, force: true });
}
