/**
 * ferryd's footprint and the CLI's speed with many domains:
 * - daemon RSS idle, and with 500 defined domains;
 * - `ferry list --all` wall time with 500 domains, CLI start-up included (target < 150 ms),
 *   beside the floor of a bare `node -e ''` measured in the same run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRpc } from '../src/rpc/index.js';
import { METHODS } from '../src/rpc/methods.js';
import { killGuests } from '../test/helpers/daemon.js';
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

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
const socket = join(dir, 'run', 'sock');
writeFileSync(join(dir, 'ferryd.conf'), '');
const daemon = spawn(
  process.execPath,
  [
    join(REPO, 'bin', 'ferryd.js'),
    '--config',
    join(dir, 'ferryd.conf'),
    '--state-dir',
    join(dir, 'state'),
    '--run-dir',
    join(dir, 'run'),
    '--socket',
    socket,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
try {
  let client;
  for (let i = 0; ; i++) {
    try {
      client = await connectRpc(socket, METHODS);
      break;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }
  await sleep(2000);
  const idle = [];
  for (let i = 0; i < 5; i++) {
    idle.push(rssKiB(daemon.pid ?? 0) / 1024);
    await sleep(200);
  }
  const t0 = Date.now();
  for (let i = 0; i < DOMAINS; i++) {
    const xml = `<domain type='qemu'><name>bench-${String(i).padStart(3, '0')}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices><memballoon model='none'/></devices></domain>`;
    await client.call('domain.define', { xml });
  }
  const defineMs = Date.now() - t0;
  client.close();
  await sleep(2000);
  const loaded = [];
  for (let i = 0; i < 5; i++) {
    loaded.push(rssKiB(daemon.pid ?? 0) / 1024);
    await sleep(200);
  }
  const uri = `qemu+unix:///system?socket=${socket}`;
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
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await killGuests(dir);
  rmSync(dir, { recursive: true, force: true });
}
