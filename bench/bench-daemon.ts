/**
 * A ferryd for a benchmark: temporary directories, the daemon from dist/ as users run it, a
 * connected RPC client, and a `stop()` that removes everything, its guests included.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRpc, type RpcClient } from '../src/rpc/index.js';
import { METHODS, type Methods } from '../src/rpc/methods.js';
import { FERRYD, ferrydLayout, killGuests } from '../test/helpers/daemon.js';

export interface BenchDaemon {
  dir: string;
  pid: number;
  uri: string;
  client: RpcClient<Methods>;
  stop(): Promise<void>;
}

export async function startBenchDaemon(prefix: string): Promise<BenchDaemon> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const { socket, args } = ferrydLayout(dir, '');
  const daemon = spawn(process.execPath, [FERRYD, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async (): Promise<void> => {
    if (daemon.exitCode === null) {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    await killGuests(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const client = await connectRpc(socket, METHODS);
      return {
        dir,
        pid: daemon.pid ?? 0,
        uri: `qemu+unix:///system?socket=${socket}`,
        client,
        stop,
      };
    } catch (err) {
      if (attempt > 100) {
        await stop();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
