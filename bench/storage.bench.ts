/**
 * `--copy-storage-all` throughput (issue #5) between two testbed hosts, against the floor of
 * `qemu-img convert` of the same image to an NBD target on the same hosts. The image is 2 GiB
 * raw with random data in every other MiB (storage-image.ts). Per round, order rotating:
 *   floor      on dst `qemu-nbd` exports a fresh 2 GiB raw file; on src
 *              `qemu-img convert -n -f raw -O raw IMAGE nbd://dst:PORT/floor`, its wall clock;
 *   floor -W   the same with out-of-order (parallel) writes;
 *   floor -W -T none, qemu-nbd --cache=none: O_DIRECT at both ends, like the guest's disk;
 *   ferry      an idle test guest on src with the image as its virtio disk (cache='none'),
 *              `ferry migrate --live --undefinesource --copy-storage-all VM qemu+tcp://dst/system`;
 *              copy time = spawning the command → the source ferryd logging "migration started",
 *              which it does the moment every mirror is READY (source.ts: after disks.copy()),
 *              before the memory moves. The command's wall clock is reported beside it.
 * Throughput is the image's size over the time. The faster floor variant is the floor.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestbed, type TestbedHost } from '../src/testbed/index.js';
import { guestXml, waitForHeartbeat } from '../test/helpers/guest.js';
import { jobBytes, jobField } from '../test/helpers/migration.js';
import { line, summarise } from './stats.js';
import { benchImage, DATA_BYTES, IMAGE_BYTES } from './storage-image.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const GUEST = 'storbench';
const IMAGES = '/var/lib/ferry/images';
const DISK = `${IMAGES}/disk.raw`;
const FLOOR_TARGET = `${IMAGES}/floor.raw`;
const FLOOR_PORT = 10900;
const MIB = 1024 ** 2;

type Variant = 'floor' | 'floorW' | 'floorDirect' | 'ferry';
type Floor = Exclude<Variant, 'ferry'>;
const VARIANTS: readonly Variant[] = ['floor', 'floorW', 'floorDirect', 'ferry'];
const FLOORS: readonly Floor[] = ['floor', 'floorW', 'floorDirect'];
const LABEL: Record<Variant, string> = {
  floor: 'convert → qemu-nbd',
  floorW: 'convert -W → qemu-nbd',
  floorDirect: 'convert -W -T none → qemu-nbd --cache=none',
  ferry: 'ferry: start → mirrors ready',
};
/** qemu-img convert's extra flags and qemu-nbd's, per floor variant. */
const FLOOR_FLAGS: Record<Floor, { convert: string[]; nbd: string[] }> = {
  floor: { convert: [], nbd: [] },
  floorW: { convert: ['-W'], nbd: [] },
  // O_DIRECT at both ends, as the guest's cache='none' disk and the destination QEMU use.
  floorDirect: { convert: ['-W', '-T', 'none'], nbd: ['--cache=none'] },
};

interface Sample {
  /** The copy's time (ferry: command start → mirrors ready). */
  ms: number;
  /** ferry only: the whole command, and domjobinfo --completed's File total and Time elapsed. */
  /** ferry only: mirrors started → every mirror ready (the copy alone). */
  copyMs?: number;
  wallMs?: number;
  fileTotal?: number;
  memoryJobMs?: number;
  load: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const load1 = (): number => loadavg()[0] ?? NaN;
const hostFile = (h: TestbedHost, path: string): string =>
  join(h.paths.stateDir, path.slice('/var/lib/ferry/'.length));

async function execOk(h: TestbedHost, argv: string[]): Promise<string> {
  const r = await h.exec(argv, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} on ${h.name}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Kills the qemu-nbd this benchmark forked, if it is still there (it exits with its client). */
function endQemuNbd(pidFile: string): void {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('qemu-nbd')) {
      process.kill(pid, 'SIGTERM');
    }
  } catch {
    // Not started, or gone.
  }
  rmSync(pidFile, { force: true });
}

/** `qemu-img compare` of the source image with a copy (seen from outside the hosts). */
function assertSame(src: string, copy: string): void {
  execFileSync('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, copy], { stdio: 'pipe' });
}

async function floorRun(
  src: TestbedHost,
  dst: TestbedHost,
  variant: Floor,
  work: string,
  verify: boolean,
): Promise<Sample> {
  const pidFile = join(work, 'qemu-nbd.pid');
  await execOk(dst, ['qemu-img', 'create', '-q', '-f', 'raw', FLOOR_TARGET, String(IMAGE_BYTES)]);
  try {
    // --fork returns once the socket listens; without -t it exits when the client is done.
    await execOk(dst, [
      'qemu-nbd',
      '--fork',
      `--pid-file=${pidFile}`,
      '-f',
      'raw',
      '-x',
      'floor',
      '-b',
      dst.address,
      '-p',
      String(FLOOR_PORT),
      ...FLOOR_FLAGS[variant].nbd,
      FLOOR_TARGET,
    ]);
    const load = load1();
    const t0 = performance.now();
    await execOk(src, [
      'qemu-img',
      'convert',
      '-n',
      ...FLOOR_FLAGS[variant].convert,
      '-f',
      'raw',
      '-O',
      'raw',
      DISK,
      `nbd://${dst.address}:${FLOOR_PORT}/floor`,
    ]);
    const ms = performance.now() - t0;
    if (verify) assertSame(hostFile(src, DISK), hostFile(dst, FLOOR_TARGET));
    return { ms, load };
  } finally {
    endQemuNbd(pidFile);
    rmSync(hostFile(dst, FLOOR_TARGET), { force: true });
  }
}

/** When the source ferryd logged `msg` for GUEST at or after `since` (epoch ms). */
function loggedAt(src: TestbedHost, msg: string, since: number): number {
  for (const text of src.ferrydLog().split('\n')) {
    if (!text.includes(`"${msg}"`)) continue;
    const rec = JSON.parse(text) as { time?: number; domain?: string };
    if (rec.domain === GUEST && typeof rec.time === 'number' && rec.time >= since) return rec.time;
  }
  throw new Error(`the source ferryd did not log "${msg}"`);
}

async function ferryRun(
  src: TestbedHost,
  dst: TestbedHost,
  work: string,
  verify: boolean,
): Promise<Sample> {
  const serial = join(work, `${GUEST}.log`);
  rmSync(serial, { force: true });
  const xml = join(work, `${GUEST}.xml`);
  writeFileSync(
    xml,
    guestXml({
      name: GUEST,
      memoryMiB: 256,
      serialLog: serial,
      extraDevices: `
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='${DISK}'/>
      <target dev='vda' bus='virtio'/>
    </disk>`,
    }),
  );
  await src.ferryOk('define', xml);
  try {
    await src.ferryOk('start', GUEST);
    await waitForHeartbeat(serial, { timeoutMs: 60_000 });
    await sleep(2000); // past the boot's CPU burst: an idle guest
    const load = load1();
    const since = Date.now();
    const t0 = performance.now();
    const r = await src.ferry(
      'migrate',
      '--live',
      '--undefinesource',
      '--copy-storage-all',
      GUEST,
      dst.tcpUri,
    );
    const wallMs = performance.now() - t0;
    if (r.code !== 0) throw new Error(`ferry migrate: ${r.stderr.trim()}`);
    const ready = loggedAt(src, 'migration started', since);
    const ms = ready - since;
    // The copy alone: mirrors started → every mirror READY (no CLI, no destination QEMU start).
    const copyMs = ready - loggedAt(src, 'disk copy started', since);
    const info = await dst.ferryOk('domjobinfo', GUEST, '--completed');
    const fileTotal = jobBytes(info, 'File total');
    const memoryJobMs = parseFloat(jobField(info, 'Time elapsed') ?? 'NaN');
    await dst.ferryOk('destroy', GUEST);
    if (verify) assertSame(hostFile(src, DISK), hostFile(dst, DISK));
    return {
      ms,
      copyMs,
      wallMs,
      ...(fileTotal === undefined ? {} : { fileTotal }),
      memoryJobMs,
      load,
    };
  } finally {
    // Whatever state a failure left: the guest gone from both hosts, the copy removed.
    for (const h of [src, dst]) {
      await h.ferry('destroy', GUEST);
      await h.ferry('undefine', GUEST);
    }
    rmSync(hostFile(dst, DISK), { force: true });
  }
}

const work = mkdtempSync(join(tmpdir(), 'ferry-bench-storage-'));
const image = benchImage();
const tb = await createTestbed({ hosts: 2, names: ['src', 'dst'], sshd: false });
const report: string[] = [
  `machine at start: load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; testbed ${tb.name}`,
];
try {
  const [src, dst] = tb.hosts as [TestbedHost, TestbedHost];
  for (const h of [src, dst]) await execOk(h, ['mkdir', '-p', IMAGES]);
  // The same bytes for every run, holes kept.
  execFileSync('cp', ['--sparse=always', image, hostFile(src, DISK)]);
  const samples: Record<Variant, Sample[]> = { floor: [], floorW: [], floorDirect: [], ferry: [] };
  for (let run = 0; run < RUNS; run++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length] as Variant);
    for (const v of order) {
      const verify = run === 0;
      const s =
        v === 'ferry'
          ? await ferryRun(src, dst, work, verify)
          : await floorRun(src, dst, v, work, verify);
      samples[v].push(s);
      process.stderr.write(`run ${run} ${v}: ${s.ms.toFixed(0)} ms (load ${s.load.toFixed(2)})\n`);
    }
  }
  const mibs = (v: Variant): number[] => samples[v].map((s) => IMAGE_BYTES / MIB / (s.ms / 1000));
  const med = (v: Variant): number => summarise(mibs(v)).median;
  report.push(
    `-- 2 GiB raw image, 1 GiB of random data (every other MiB), ${RUNS} rounds, order rotating`,
  );
  for (const v of VARIANTS) {
    report.push(line(LABEL[v], summarise(samples[v].map((s) => s.ms)), 'ms', 0));
    report.push(line(`  throughput (2 GiB / time)`, summarise(mibs(v)), 'MiB/s', 1));
  }
  const ferry = samples.ferry;
  const copyMibs = ferry.map((s) => IMAGE_BYTES / MIB / ((s.copyMs ?? NaN) / 1000));
  report.push(
    line('ferry: mirrors started → ready', summarise(ferry.map((s) => s.copyMs ?? NaN)), 'ms', 0),
  );
  report.push(line(`  throughput (2 GiB / time)`, summarise(copyMibs), 'MiB/s', 1));
  report.push(
    line('ferry migrate: whole command', summarise(ferry.map((s) => s.wallMs ?? NaN)), 'ms', 0),
  );
  report.push(
    line(
      'ferry: memory job (domjobinfo Time elapsed)',
      summarise(ferry.map((s) => s.memoryJobMs ?? NaN)),
      'ms',
      0,
    ),
  );
  report.push(
    line(
      'ferry: File total (domjobinfo --completed)',
      summarise(ferry.map((s) => (s.fileTotal ?? NaN) / MIB)),
      'MiB',
      1,
    ),
  );
  report.push(
    line(
      'load average (1 min) at each sample',
      summarise(Object.values(samples).flatMap((xs) => xs.map((s) => s.load))),
      '',
      2,
    ),
  );
  const floor = FLOORS.reduce((best, v) => (med(v) > med(best) ? v : best));
  report.push(
    `floor: ${LABEL[floor]} (the fastest median); data in the image ${DATA_BYTES / MIB} MiB`,
  );
  report.push(
    `ratio of median throughputs, ferry (command start → mirrors ready) / floor: ${(med('ferry') / med(floor)).toFixed(3)} (target ≥ 0.8)`,
  );
  report.push(
    `ratio of median throughputs, ferry's copy alone (mirrors started → ready) / floor: ${(summarise(copyMibs).median / med(floor)).toFixed(3)}`,
  );
  report.push(
    `ratio against the issue's floor (plain qemu-img convert): ${(med('ferry') / med('floor')).toFixed(3)}`,
  );
  report.push(
    `machine at end: load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(report.join('\n'));
} finally {
  await tb.down();
  rmSync(work, { recursive: true, force: true });
}
