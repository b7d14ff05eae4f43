/**
 * Live migration end to end: `ferry migrate --live` (CLI start → guest running on the
 * destination) against a bare QMP migration between two QEMU processes with nothing in between
 * (start destination QEMU, migrate, wait until it runs). Same 512 MiB guest, idle and dirtying
 * 10 MiB/s, stream bandwidth unlimited in both, rounds alternating. Target ratio ≤ 1.2.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { QmpClient } from '../src/qmp/index.js';
import { guestBaseCmdline, guestInitrd, guestKernel, guestXml } from '../test/helpers/guest.js';
import { startBenchDaemon } from './bench-daemon.js';
import { line, summarise } from './stats.js';

const REPO = join(import.meta.dirname, '..');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const MEMORY_MIB = 512;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample {
  wallMs: number;
  downtimeMs: number;
  totalMs: number;
  mib: number;
}

function qemuArgs(dir: string, name: string, append: string, extra: string[]): string[] {
  return [
    '-no-user-config',
    '-nodefaults',
    '-machine',
    'pc,accel=tcg',
    '-m',
    `size=${MEMORY_MIB * 1024}k`,
    '-smp',
    '1',
    '-S',
    '-kernel',
    guestKernel(),
    '-initrd',
    guestInitrd(),
    '-append',
    append,
    '-chardev',
    `file,id=charserial0,path=${join(dir, `${name}.log`)},append=on`,
    '-device',
    'isa-serial,chardev=charserial0,id=serial0',
    '-display',
    'none',
    '-chardev',
    `socket,id=mon,path=${join(dir, `${name}.qmp`)},server=on,wait=off`,
    '-mon',
    'chardev=mon,mode=control',
    ...extra,
  ];
}

/** Bare QEMU: the source runs the guest; timing starts when the destination is launched. */
async function bareRun(dir: string, run: number, append: string): Promise<Sample> {
  const src = spawn('qemu-system-x86_64', qemuArgs(dir, `bsrc${run}`, append, []), {
    stdio: 'ignore',
  });
  const srcQmp = await QmpClient.connect(join(dir, `bsrc${run}.qmp`), { waitForSocket: true });
  await srcQmp.execute('cont');
  await sleep(6000); // boot and fill the working set, as the Ferry guest does
  const port = 49300 + run;
  const t0 = process.hrtime.bigint();
  const dst = spawn(
    'qemu-system-x86_64',
    qemuArgs(dir, `bdst${run}`, append, ['-incoming', `tcp:127.0.0.1:${port}`]),
    { stdio: 'ignore' },
  );
  const dstQmp = await QmpClient.connect(join(dir, `bdst${run}.qmp`), { waitForSocket: true });
  await srcQmp.execute('migrate-set-parameters', { 'max-bandwidth': Number.MAX_SAFE_INTEGER });
  await srcQmp.execute('migrate', { uri: `tcp:127.0.0.1:${port}` });
  let info: {
    status?: string;
    downtime?: number;
    'total-time'?: number;
    ram?: { transferred: number };
  };
  for (;;) {
    info = await srcQmp.execute('query-migrate');
    if (info.status === 'completed') break;
    if (info.status === 'failed') throw new Error('bare migration failed');
    await sleep(5);
  }
  // -S on the destination: it runs once told to, as ferryd's finish phase does.
  await dstQmp.execute('cont');
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  for (const [p, q] of [
    [src, srcQmp],
    [dst, dstQmp],
  ] as const) {
    q.close();
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
  return {
    wallMs,
    downtimeMs: info.downtime ?? NaN,
    totalMs: info['total-time'] ?? NaN,
    mib: (info.ram?.transferred ?? 0) / 1048576,
  };
}

async function ferryRun(
  a: Awaited<ReturnType<typeof startBenchDaemon>>,
  b: Awaited<ReturnType<typeof startBenchDaemon>>,
  run: number,
  xml: string,
): Promise<Sample> {
  const name = `m${run}`;
  await a.client.call('domain.create', {
    xml: xml
      .replace('<name>NAME</name>', `<name>${name}</name>`)
      .replace('SERIAL', join(a.dir, `${name}.log`)),
  });
  await sleep(6000);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [
    join(REPO, 'bin', 'ferry.js'),
    '-c',
    a.uri,
    'migrate',
    '--live',
    name,
    b.uri,
  ]);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`ferry migrate failed: ${r.stderr.toString()}`);
  const stats = await b.client.call('job.info', { domain: name, completed: true });
  await b.client.call('domain.destroy', { domain: name });
  return {
    wallMs,
    downtimeMs: stats.totalDowntimeMs ?? NaN,
    totalMs: stats.timeElapsedMs ?? NaN,
    mib: (stats.dataProcessed ?? 0) / 1048576,
  };
}

const a = await startBenchDaemon('ferry-mig-a-');
const b = await startBenchDaemon('ferry-mig-b-');
try {
  const report: string[] = [];
  for (const [label, dirty] of [
    ['idle', 0],
    ['dirtying 10 MiB/s', 10],
  ] as const) {
    const params = `ferry.hb_ms=500 ferry.dirty_mb=${dirty === 0 ? 0 : 64} ferry.dirty_rate=${dirty}`;
    const xml = guestXml({
      name: 'NAME',
      serialLog: 'SERIAL',
      memoryMiB: MEMORY_MIB,
      hbMs: 500,
      dirtyMiB: dirty === 0 ? 0 : 64,
      dirtyRate: dirty,
    });
    const bare: Sample[] = [];
    const ferry: Sample[] = [];
    for (let run = 0; run < RUNS; run++) {
      if (run % 2 === 0) {
        bare.push(await bareRun(a.dir, run, `${guestBaseCmdline()} ${params}`));
        ferry.push(await ferryRun(a, b, run, xml));
      } else {
        ferry.push(await ferryRun(a, b, run, xml));
        bare.push(await bareRun(a.dir, run, `${guestBaseCmdline()} ${params}`));
      }
    }
    const f = (xs: Sample[], k: keyof Sample) => summarise(xs.map((x) => x[k]));
    report.push(
      `-- ${MEMORY_MIB} MiB guest, ${label}`,
      line('bare QMP: end to end', f(bare, 'wallMs'), 'ms', 0),
      line('ferry migrate --live: end to end', f(ferry, 'wallMs'), 'ms', 0),
      line('bare QMP: QEMU downtime', f(bare, 'downtimeMs'), 'ms', 0),
      line('ferry: QEMU downtime', f(ferry, 'downtimeMs'), 'ms', 0),
      line('bare QMP: QEMU total time', f(bare, 'totalMs'), 'ms', 0),
      line('ferry: QEMU total time', f(ferry, 'totalMs'), 'ms', 0),
      line('bare QMP: data', f(bare, 'mib'), 'MiB'),
      line('ferry: data', f(ferry, 'mib'), 'MiB'),
      `ratio of end-to-end medians ferry/bare: ${(f(ferry, 'wallMs').median / f(bare, 'wallMs').median).toFixed(3)} (target ≤ 1.2)`,
    );
  }
  console.log(report.join('\n'));
} finally {
  await a.stop();
  await b.stop();
}
