/**
 * Guest start to first heartbeat: through ferryd (the `domain.start` RPC, and the whole
 * `ferry start` command) against bare `qemu-system-x86_64` running the same guest with the
 * same options, alternating so both see the same machine noise. Target: ratio ≤ 1.1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBenchDaemon } from './bench-daemon.js';
import { guestBaseCmdline, guestInitrd, guestKernel, guestXml } from '../test/helpers/guest.js';
import { line, summarise } from './stats.js';

const REPO = join(import.meta.dirname, '..');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function firstHeartbeat(serial: string, t0: bigint): Promise<number> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (existsSync(serial) && readFileSync(serial, 'utf8').includes('FERRY-HB seq=1 ')) {
      return Number(process.hrtime.bigint() - t0) / 1e6;
    }
    await sleep(5);
  }
  throw new Error(`no heartbeat in ${serial}`);
}

const bench = await startBenchDaemon('ferry-boot-');
const { dir, client } = bench;
const bare: number[] = [];
const viaRpc: number[] = [];
const viaCli: number[] = [];
try {
  const { uri } = bench;
  const rpc = client;
  const variants: Record<'bare' | 'rpc' | 'cli', (run: number) => Promise<number>> = {
    // Bare QEMU: the same guest and options, no monitor.
    bare: async (run) => {
      const serial = join(dir, `bare-${run}.log`);
      const t0 = process.hrtime.bigint();
      const qemu = spawn(
        'qemu-system-x86_64',
        [
          '-no-user-config',
          '-nodefaults',
          '-machine',
          'pc,accel=tcg',
          '-m',
          'size=131072k',
          '-smp',
          '1',
          '-rtc',
          'base=utc',
          '-kernel',
          guestKernel(),
          '-initrd',
          guestInitrd(),
          '-append',
          `${guestBaseCmdline()} ferry.hb_ms=200 ferry.dirty_mb=0 ferry.dirty_rate=0`,
          '-chardev',
          `file,id=charserial0,path=${serial},append=on`,
          '-device',
          'isa-serial,chardev=charserial0,id=serial0',
          '-display',
          'none',
        ],
        { stdio: 'ignore' },
      );
      const ms = await firstHeartbeat(serial, t0);
      const exited = new Promise((r) => qemu.once('exit', r));
      qemu.kill('SIGKILL');
      await exited;
      return ms;
    },
    // Through ferryd's RPC.
    rpc: async (run) => {
      const name = `rpc-${run}`;
      const serial = join(dir, `${name}.log`);
      await rpc.call('domain.define', { xml: guestXml({ name, serialLog: serial, hbMs: 200 }) });
      const t0 = process.hrtime.bigint();
      await rpc.call('domain.start', { domain: name });
      const ms = await firstHeartbeat(serial, t0);
      await rpc.call('domain.destroy', { domain: name });
      return ms;
    },
    // Through the CLI: what a user waits for, CLI start-up included.
    cli: async (run) => {
      const name = `cli-${run}`;
      const serial = join(dir, `${name}.log`);
      await rpc.call('domain.define', { xml: guestXml({ name, serialLog: serial, hbMs: 200 }) });
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [
        join(REPO, 'bin', 'ferry.js'),
        '-c',
        uri,
        'start',
        name,
      ]);
      if (r.status !== 0) throw new Error(r.stderr.toString());
      const ms = await firstHeartbeat(serial, t0);
      await rpc.call('domain.destroy', { domain: name });
      return ms;
    },
  };
  const samples = { bare, rpc: viaRpc, cli: viaCli };
  const orders = [
    ['bare', 'rpc', 'cli'],
    ['rpc', 'cli', 'bare'],
    ['cli', 'bare', 'rpc'],
  ] as const;
  for (let run = 0; run < RUNS; run++) {
    // Rotate the order so no variant always follows the same one.
    for (const v of orders[run % orders.length] ?? orders[0])
      samples[v].push(await variants[v](run));
  }
  const b = summarise(bare);
  const f = summarise(viaRpc);
  const c = summarise(viaCli);
  console.log(
    [
      line('bare qemu-system-x86_64: start → first heartbeat', b, 'ms', 0),
      line('ferryd domain.start RPC: start → first heartbeat', f, 'ms', 0),
      line('ferry start (CLI): start → first heartbeat', c, 'ms', 0),
      `ratio of medians: ferryd/bare ${(f.median / b.median).toFixed(3)}, ferry CLI/bare ${(c.median / b.median).toFixed(3)} (target ≤ 1.1)`,
    ].join('\n'),
  );
} finally {
  await bench.stop();
}
