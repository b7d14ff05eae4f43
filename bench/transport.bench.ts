/**
 * Migration over each transport between two testbed hosts (issue #4): the same idle 512 MiB
 * guest migrated live back and forth with the destination reached as
 *   unix  qemu+unix:///system?socket=… (the destination's socket file, --listen-address its IP)
 *   tcp   qemu+tcp://HOST/system, SASL (SCRAM-SHA-256) login
 *   tls   qemu+tls://HOST/system, client certificate
 *   ssh   qemu+ssh://HOST/system, the system ssh and ferry-ssh-helper
 * rounds rotating the order so each sees the same noise. Reported: the command's wall time
 * (CLI start to exit, as a user waits) and the job's own time and downtime. The transport's
 * overhead is its median minus unix's. Then `migrate --tls` against plain TCP for the stream
 * itself: a guest with 256 MiB of written memory, throughput = data processed / job time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestbed, type TestbedHost } from '../src/testbed/index.js';
import { guestXml } from '../test/helpers/guest.js';
import { jobField } from '../test/helpers/migration.js';
import { SECURE_CONFIG, secureHosts } from '../test/helpers/remote.js';
import { line, summarise } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const MEMORY_MIB = 512;
type Transport = 'unix' | 'tcp' | 'tls' | 'ssh';
const TRANSPORTS: readonly Transport[] = ['unix', 'tcp', 'tls', 'ssh'];

interface Sample {
  wallMs: number;
  jobMs: number;
  downtimeMs: number;
  mib: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function uriOf(t: Transport, dst: TestbedHost): { uri: string; extra: string[] } {
  switch (t) {
    case 'unix':
      return {
        uri: `qemu+unix:///system?socket=${join(dst.paths.runDir, 'ferry-sock')}`,
        extra: ['--listen-address', dst.address],
      };
    case 'tcp':
      return { uri: dst.tcpUri, extra: [] };
    case 'tls':
      return { uri: `qemu+tls://${dst.name}/system`, extra: [] };
    case 'ssh':
      return { uri: dst.sshUri, extra: [] };
  }
}

/** One live migration src → dst; the sample from the wall clock and dst's completed job. */
async function migrate(
  name: string,
  src: TestbedHost,
  dst: TestbedHost,
  t: Transport,
  flags: string[] = [],
): Promise<Sample> {
  const { uri, extra } = uriOf(t, dst);
  const t0 = performance.now();
  const r = await src.ferry(
    'migrate',
    '--live',
    '--persistent',
    '--undefinesource',
    ...extra,
    ...flags,
    name,
    uri,
  );
  const wallMs = performance.now() - t0;
  if (r.code !== 0) throw new Error(`migrate over ${t}: ${r.stderr}`);
  const info = await dst.ferryOk('domjobinfo', name, '--completed');
  const num = (label: string): number => parseFloat(jobField(info, label) ?? 'NaN');
  const data = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(jobField(info, 'Data processed') ?? '');
  const unit = { B: 1 / 1024 ** 2, KiB: 1 / 1024, MiB: 1, GiB: 1024 }[
    (data?.[2] ?? 'MiB') as 'MiB'
  ];
  return {
    wallMs,
    jobMs: num('Time elapsed'),
    downtimeMs: num('Total downtime'),
    mib: Number(data?.[1] ?? NaN) * unit,
  };
}

const tb = await createTestbed({
  hosts: 2,
  names: ['src', 'dst'],
  ferryd: false,
  extraConfig: SECURE_CONFIG,
});
const pki = mkdtempSync(join(tmpdir(), 'ferry-bench-pki-'));
const report: string[] = [
  `machine at start: load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; testbed ${tb.name}`,
];
try {
  const [a, b] = tb.hosts as [TestbedHost, TestbedHost];
  await secureHosts(tb, pki, { user: 'bench', password: 'bench-password' });

  // Transports: an idle guest back and forth.
  const xml = join(pki, 'idle.xml');
  writeFileSync(
    xml,
    guestXml({ name: 'idle', memoryMiB: MEMORY_MIB, serialLog: join(pki, 'idle.log') }),
  );
  await a.ferryOk('define', xml);
  await a.ferryOk('start', 'idle');
  await sleep(6000);
  const samples: Record<Transport, Sample[]> = { unix: [], tcp: [], tls: [], ssh: [] };
  let here = a;
  let there = b;
  for (let run = 0; run < RUNS; run++) {
    const order = TRANSPORTS.map((_, i) => TRANSPORTS[(i + run) % TRANSPORTS.length] as Transport);
    for (const t of order) {
      samples[t].push(await migrate('idle', here, there, t));
      [here, there] = [there, here];
    }
  }
  const med = (t: Transport, k: keyof Sample): number =>
    summarise(samples[t].map((s) => s[k])).median;
  report.push(
    `-- ${MEMORY_MIB} MiB idle guest, live, ${RUNS} migrations per transport (alternating direction)`,
  );
  for (const t of TRANSPORTS) {
    report.push(
      line(`${t}: ferry migrate, wall clock`, summarise(samples[t].map((s) => s.wallMs)), 'ms', 0),
    );
    report.push(
      line(`${t}: job time (domjobinfo)`, summarise(samples[t].map((s) => s.jobMs)), 'ms', 0),
    );
    report.push(line(`${t}: downtime`, summarise(samples[t].map((s) => s.downtimeMs)), 'ms', 0));
  }
  report.push(
    `overhead over unix, median wall clock: ${TRANSPORTS.filter((t) => t !== 'unix')
      .map((t) => `${t} ${(med(t, 'wallMs') - med('unix', 'wallMs')).toFixed(0)} ms`)
      .join(', ')}`,
  );
  await here.ferryOk('destroy', 'idle');
  await here.ferryOk('undefine', 'idle');

  // The stream: plain TCP against migrate --tls, a guest with 256 MiB written.
  const busy = join(pki, 'busy.xml');
  writeFileSync(
    busy,
    guestXml({
      name: 'busy',
      memoryMiB: MEMORY_MIB,
      dirtyMiB: 256,
      dirtyRate: 10,
      hbMs: 500,
      serialLog: join(pki, 'busy.log'),
    }),
  );
  await a.ferryOk('define', busy);
  await a.ferryOk('start', 'busy');
  await sleep(30_000); // 256 MiB at 10 MiB/s, written once over
  const stream: Record<'plain' | 'tls', Sample[]> = { plain: [], tls: [] };
  here = a;
  there = b;
  for (let run = 0; run < RUNS; run++) {
    for (const v of run % 2 === 0 ? (['plain', 'tls'] as const) : (['tls', 'plain'] as const)) {
      stream[v].push(await migrate('busy', here, there, 'tcp', v === 'tls' ? ['--tls'] : []));
      [here, there] = [there, here];
    }
  }
  report.push(
    `-- ${MEMORY_MIB} MiB guest, 256 MiB written and rewritten at 10 MiB/s, qemu+tcp, ${RUNS} each`,
  );
  for (const v of ['plain', 'tls'] as const) {
    const mibs = stream[v].map((s) => (s.mib * 1000) / s.jobMs);
    report.push(
      line(
        `${v === 'tls' ? 'migrate --tls' : 'plain stream'}: throughput`,
        summarise(mibs),
        'MiB/s',
        1,
      ),
    );
    report.push(
      line(
        `${v === 'tls' ? 'migrate --tls' : 'plain stream'}: job time`,
        summarise(stream[v].map((s) => s.jobMs)),
        'ms',
        0,
      ),
    );
    report.push(
      line(
        `${v === 'tls' ? 'migrate --tls' : 'plain stream'}: data`,
        summarise(stream[v].map((s) => s.mib)),
        'MiB',
        1,
      ),
    );
  }
  const tput = (v: 'plain' | 'tls'): number =>
    summarise(stream[v].map((s) => (s.mib * 1000) / s.jobMs)).median;
  report.push(`median throughput, --tls / plain: ${(tput('tls') / tput('plain')).toFixed(3)}`);
  report.push(
    `machine at end: load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(report.join('\n'));
} finally {
  await tb.down();
  rmSync(pki, { recursive: true, force: true });
}
