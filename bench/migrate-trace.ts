/**
 * Where `ferry migrate --live` spends its time, step by step: runs the idle benchmark guest's
 * migration BENCH_RUNS times with the timestamps of bench/breakdown.patch switched on
 * (FERRY_TRACE), and prints the median time of each step from the CLI's spawn. Not part of
 * `npm run bench`; see bench/README.md ("Where the time goes") for how to run it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FERRY } from '../test/helpers/daemon.js';
import { startBenchDaemon } from './bench-daemon.js';
import { ferryXml, GUESTS, SETTLE_MS } from './migrate-guest.js';
import { exitOf, sleep } from './migrate-runs.js';
import { SerialTap } from './serial-tap.js';
import { summarise } from './stats.js';

const TRACE = process.env['FERRY_TRACE'];
if (TRACE === undefined) throw new Error('set FERRY_TRACE=FILE (and apply bench/breakdown.patch)');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const guest = GUESTS[0];
if (guest === undefined) throw new Error('no guest');

/** Step label → its offsets (ms from the CLI's spawn) over the runs, in first-seen order. */
const steps = new Map<string, number[]>();
const add = (label: string, ms: number): void => {
  const xs = steps.get(label) ?? [];
  xs.push(ms);
  steps.set(label, xs);
};

const a = await startBenchDaemon('ferry-trace-a-');
const b = await startBenchDaemon('ferry-trace-b-');
const side = new Map([
  [String(a.pid), 'source'],
  [String(b.pid), 'destination'],
]);
try {
  for (let run = 0; run < RUNS; run++) {
    const name = `t${run}`;
    const tap = await SerialTap.listen(join(a.dir, `${name}.serial`));
    await a.client.call('domain.create', { xml: ferryXml(name, guest, tap.path) });
    await sleep(SETTLE_MS);
    rmSync(TRACE, { force: true });
    const t0 = performance.now();
    const t0Epoch = performance.timeOrigin + t0;
    const cli = spawn(process.execPath, [FERRY, '-c', a.uri, 'migrate', '--live', name, b.uri], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = exitOf(cli, 'ferry migrate');
    const conn = await tap.waitFor(1, /FERRY-HB/, 60_000);
    const returned = (await exited) - t0;
    const seen = new Set<string>();
    for (const text of readFileSync(TRACE, 'utf8').trim().split('\n')) {
      const [at, , pid = '', ...rest] = text.split(' ');
      // QEMU's events carry QEMU's own clock; name them by the ferryd that received them.
      const what = rest
        .join(' ')
        .replace(/^qemu \d+ /, 'QEMU ')
        .replace(/ total=.*$/, '');
      const label = `${side.get(pid) ?? 'cli'}: ${what}`;
      if (seen.has(label)) continue; // e.g. repeated watch wake-ups: keep the first
      seen.add(label);
      add(label, Number(at) - t0Epoch);
    }
    add('guest: first heartbeat on the destination', (conn.firstDataAt ?? NaN) - t0);
    add('bench: ferry process exited', returned);
    await b.client.call('domain.destroy', { domain: name });
    await tap.close();
  }
} finally {
  await a.stop();
  await b.stop();
}
const rows = [...steps].map(([label, xs]) => ({ label, s: summarise(xs) }));
rows.sort((x, y) => x.s.median - y.s.median);
let prev = 0;
console.log(
  `median over ${RUNS} runs, ms from spawning \`ferry migrate\` (Δ = from the row above)`,
);
for (const { label, s } of rows) {
  console.log(
    `${s.median.toFixed(1).padStart(8)} ${`(+${(s.median - prev).toFixed(1)})`.padStart(9)}  ${label}`,
  );
  prev = s.median;
}
