/**
 * Resolves a guest disk's `<source pool= volume=/>` inside a testbed host, the way ferryd's
 * VolumeService does (`node --import tsx netfs-resolve.ts POOL VOLUME`): a PoolManager reads
 * the pool definitions ferryd saved in /var/lib/ferry/storage, starts POOL with its status kept
 * in a temporary directory (ferryd's own state is not written), and prints resolveVolume's
 * result as JSON, or `error: CODE message` on stderr with exit code 1.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FerryError, messageOf } from '../../src/common/errors.js';
import { SILENT_LOGGER } from '../../src/host/logger.js';
import { PoolManager, VolumeService } from '../../src/storage/index.js';

const [pool, volume] = process.argv.slice(2);
const runDir = mkdtempSync(join(tmpdir(), 'ferry-netfs-resolve-'));

async function resolve(): Promise<unknown> {
  if (pool === undefined || volume === undefined) throw new Error('usage: POOL VOLUME');
  const pools = new PoolManager({
    configDir: '/var/lib/ferry/storage',
    runDir,
    logDir: runDir,
    policy: { allowedPaths: [], qemuCommandline: false, origin: 'the test' },
    logger: SILENT_LOGGER,
  });
  await pools.load();
  await pools.start(pool, false);
  return new VolumeService(pools).resolveVolume(pool, volume);
}

try {
  process.stdout.write(`${JSON.stringify(await resolve())}\n`);
} catch (err) {
  const code = err instanceof FerryError ? err.code : 'ERROR';
  process.stderr.write(`error: ${code} ${messageOf(err)}\n`);
  process.exitCode = 1;
} finally {
  rmSync(runDir, { recursive: true, force: true });
}
