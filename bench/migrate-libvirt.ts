/**
 * libvirt beside Ferry: two libvirtd "hosts" made by bench/libvirt/setup.sh (network
 * namespaces on this machine), and one timed `virsh migrate --live --p2p` of the benchmark
 * guest. virsh runs here and reaches the source libvirtd over its unix socket, as `ferry`
 * reaches ferryd; the source libvirtd reaches the destination over TCP (veth), p2p as Ferry.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { libvirtXml, SETTLE_MS, type GuestKind } from './migrate-guest.js';
import { exitOf, sleep, type Sample } from './migrate-runs.js';
import { SerialTap } from './serial-tap.js';

const HERE = join(import.meta.dirname, 'libvirt');
export const LIBVIRT_STATE = '/tmp/ferry-bench-libvirt';
const unixUri = (h: 'a' | 'b'): string =>
  `qemu+unix:///system?socket=${LIBVIRT_STATE}/${h}/run/libvirt-sock`;
const DEST_TCP = 'qemu+tcp://10.251.0.2/system';

const onPath = (cmd: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Why libvirt cannot be measured here, or undefined when it can. */
export function libvirtUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (network namespaces and libvirtd need root)';
  const missing = ['libvirtd', 'virsh', 'tini', 'ip', 'unshare'].filter((c) => !onPath(c));
  if (missing.length > 0)
    return `${missing.join(', ')} not installed (apt-get install --no-install-recommends libvirt-daemon-system libvirt-clients tini)`;
  return undefined;
}

export function setUpLibvirt(): void {
  // A run that was interrupted may have left its hosts behind (only ours: by pid files).
  tearDownLibvirt();
  const r = spawnSync('bash', [join(HERE, 'setup.sh')], {
    env: { ...process.env, STATE: LIBVIRT_STATE },
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    tearDownLibvirt();
    throw new Error(`bench/libvirt/setup.sh failed: ${r.stderr.trim() || r.stdout.trim()}`);
  }
}

export function tearDownLibvirt(): void {
  spawnSync('bash', [join(HERE, 'teardown.sh'), '--purge'], {
    env: { ...process.env, STATE: LIBVIRT_STATE },
    stdio: 'ignore',
  });
}

const virsh = (h: 'a' | 'b', ...args: string[]): string =>
  execFileSync('virsh', ['-c', unixUri(h), ...args], { encoding: 'utf8' });

/** "Total downtime:   47   ms" → 47; "Data processed:   68.692 MiB" → 68.692 (in MiB). */
function field(jobinfo: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+([0-9.]+)\\s*(\\S*)`, 'm').exec(jobinfo);
  if (m === null) return NaN;
  const scale: Record<string, number> = { B: 1 / 1048576, KiB: 1 / 1024, MiB: 1, GiB: 1024 };
  return Number(m[1]) * (scale[m[2] ?? ''] ?? 1);
}

export async function libvirtRun(dir: string, run: number, g: GuestKind): Promise<Sample> {
  const name = `lv${run}`;
  const tap = await SerialTap.listen(join(dir, `${name}.serial`));
  const xmlFile = join(dir, `${name}.xml`);
  writeFileSync(xmlFile, libvirtXml(name, g, tap.path));
  try {
    virsh('a', 'define', xmlFile);
    virsh('a', 'start', name);
    await sleep(SETTLE_MS);
    const t0 = performance.now();
    const cli = spawn('virsh', ['-c', unixUri('a'), 'migrate', '--live', '--p2p', name, DEST_TCP], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = exitOf(cli, 'virsh migrate');
    const conn = await tap.waitFor(1, /FERRY-HB/, 60_000);
    const returnedAt = await exited;
    // The source keeps a persistent domain's statistics (read once: libvirt 9 drops them).
    const info = virsh('a', 'domjobinfo', name, '--completed');
    return {
      runningMs: (conn.firstDataAt ?? NaN) - t0,
      gapMs: tap.heartbeatGapMs(),
      returnedMs: returnedAt - t0,
      resumedMs: NaN,
      downtimeMs: field(info, 'Total downtime'),
      totalMs: field(info, 'Time elapsed'),
      mib: field(info, 'Data processed'),
    };
  } finally {
    for (const [h, cmd] of [
      ['b', 'destroy'],
      ['a', 'destroy'],
      ['a', 'undefine'],
      ['b', 'undefine'],
    ] as const) {
      spawnSync('virsh', ['-c', unixUri(h), cmd, name], { stdio: 'ignore' });
    }
    await tap.close();
  }
}
