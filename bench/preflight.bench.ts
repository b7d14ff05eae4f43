/**
 * The migration preflight's cost between two testbed hosts (issue #6): `ferry migrate
 * --dry-run` without measurements (what every `ferry migrate` runs first) and with them (link
 * bandwidth and dirty rate), on an idle 512 MiB guest with one shared disk (so the storage
 * proof writes and removes a marker). Reported: the preflight's own time (the report's
 * elapsedMs, inside the source ferryd), the CLI's wall clock, and the preflight time the
 * source ferryd logs inside real migrations.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestbed, type TestbedHost } from '../src/testbed/index.js';
import type { PreflightReport } from '../src/rpc/schema/preflight.js';
import { guestXml } from '../test/helpers/guest.js';
import { line, summarise } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);
const MEMORY_MIB = 512;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function dryRun(
  src: TestbedHost,
  dst: TestbedHost,
  measure: boolean,
): Promise<{ wallMs: number; report: PreflightReport }> {
  const t0 = performance.now();
  const r = await src.ferry(
    'migrate',
    '--live',
    '--persistent',
    '--dry-run',
    '--json',
    ...(measure ? [] : ['--no-measure']),
    'idle',
    dst.tcpUri,
  );
  const wallMs = performance.now() - t0;
  if (r.code !== 0) throw new Error(`dry-run: ${r.stderr}\n${r.stdout}`);
  return { wallMs, report: JSON.parse(r.stdout) as PreflightReport };
}

/** The `migration preflight` times (ms) a ferryd logged, in order. */
function loggedPreflights(h: TestbedHost): number[] {
  return h
    .ferrydLog()
    .split('\n')
    .filter((l) => l.includes('"msg":"migration preflight"'))
    .map((l) => (JSON.parse(l) as { ms: number }).ms);
}

const tb = await createTestbed({ hosts: 2, names: ['src', 'dst'] });
const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-preflight-'));
const report: string[] = [
  `machine at start: load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; testbed ${tb.name}`,
];
try {
  const [a, b] = tb.hosts as [TestbedHost, TestbedHost];
  const disk = join(dir, 'data.raw');
  writeFileSync(disk, Buffer.alloc(16 * 1024 * 1024));
  const xml = join(dir, 'idle.xml');
  writeFileSync(
    xml,
    guestXml({
      name: 'idle',
      memoryMiB: MEMORY_MIB,
      serialLog: join(dir, 'idle.log'),
      extraDevices: `
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${disk}'/>
      <target dev='vdb' bus='virtio'/>
    </disk>`,
    }),
  );
  await a.ferryOk('define', xml);
  await a.ferryOk('start', 'idle');
  await sleep(6000);
  // The first preflight probes QEMU's machine types (cached per binary afterwards): once, untimed.
  await dryRun(a, b, false);

  for (const measure of [false, true]) {
    const samples: { wallMs: number; report: PreflightReport }[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await dryRun(a, b, measure));
    const what = measure ? 'with measurements' : 'no measurements';
    report.push(`-- ferry migrate --dry-run, ${what}, ${MEMORY_MIB} MiB idle guest, qemu+tcp`);
    report.push(
      line(`preflight (${what})`, summarise(samples.map((s) => s.report.elapsedMs)), 'ms', 0),
    );
    report.push(line(`CLI wall clock (${what})`, summarise(samples.map((s) => s.wallMs)), 'ms', 0));
    const last = samples.at(-1)?.report;
    if (last !== undefined)
      report.push(`verdicts: ${last.checks.map((c) => `${c.check} ${c.verdict}`).join(', ')}`);
  }

  // Inside real migrations, back and forth: the preflight the source ferryd runs first.
  let here = a;
  let there = b;
  for (let i = 0; i < RUNS; i++) {
    await here.ferryOk(
      'migrate',
      '--live',
      '--persistent',
      '--undefinesource',
      'idle',
      there.tcpUri,
    );
    [here, there] = [there, here];
  }
  const inMigrations = [...loggedPreflights(a), ...loggedPreflights(b)];
  report.push(`-- ${RUNS} live migrations (alternating direction)`);
  report.push(line('preflight inside ferry migrate', summarise(inMigrations), 'ms', 0));
  await here.ferryOk('destroy', 'idle');
} finally {
  await tb.down();
  rmSync(dir, { recursive: true, force: true });
}
console.log(report.join('\n'));
