/**
 * ferryd's footprint and the CLI's speed with many domains:
 * - daemon RSS idle, and with 500 defined domains;
 * - `ferry list --all` wall time with 500 domains, CLI start-up included (target < 150 ms),
 *   beside the floor of a bare `node -e ''` measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBenchDaemon } from './bench-daemon.js';
import { line, summarise } from './stats.js';

const REPO = join(import.meta.dirname, '..');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const DOMAINS = 500;

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

function timeMs(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return ms;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const bench = await startBenchDaemon('ferry-bench-');
const { client } = bench;
try {
  await sleep(2000);
  const idle = [];
  for (let i = 0; i < 5; i++) {
    idle.push(rssKiB(bench.pid) / 1024);
    await sleep(200);
  }
  const t0 = Date.now();
  for (let i = 0; i < DOMAINS; i++) {
    const xml = `<domain type='qemu'><name>bench-${String(i).padStart(3, '0')}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices><memballoon model='none'/></devices></domain>`;
    await client.call('domain.define', { xml });
  }
  const defineMs = Date.now() - t0;
  await sleep(2000);
  const loaded = [];
  for (let i = 0; i < 5; i++) {
    loaded.push(rssKiB(bench.pid) / 1024);
    await sleep(200);
  }
  const { uri } = bench;
  const ferry = join(REPO, 'bin', 'ferry.js');
  const floor: number[] = [];
  const list: number[] = [];
  timeMs(process.execPath, [ferry, '-c', uri, 'list', '--all']); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    floor.push(timeMs(process.execPath, ['-e', '']));
    list.push(timeMs(process.execPath, [ferry, '-c', uri, 'list', '--all']));
  }
  const out = spawnSync(process.execPath, [ferry, '-c', uri, 'list', '--all']).stdout.toString();
  const rows = out.split('\n').filter((l) => l.includes('bench-')).length;
  if (rows !== DOMAINS) throw new Error(`list --all printed ${rows} domains, expected ${DOMAINS}`);

  const report = [
    line('ferryd RSS, idle', summarise(idle), 'MiB'),
    line(`ferryd RSS, ${DOMAINS} defined domains`, summarise(loaded), 'MiB'),
    `define ${DOMAINS} domains over one connection: ${defineMs} ms (${(defineMs / DOMAINS).toFixed(2)} ms each, fsync'd)`,
    line(`ferry list --all (${DOMAINS} domains), wall`, summarise(list), 'ms'),
    line("floor: node -e '' (same run)", summarise(floor), 'ms'),
  ];
  console.log(report.join('\n'));
} finally {
  await bench.stop();
}
