/**
 * measureLink run inside a testbed host (its network namespace), as the source ferryd of a
 * migration would run it: see measure-link-main.ts.
 * @module
 */
import { join } from 'node:path';
import type { LinkMeasurement } from '../../src/preflight/link.js';
import type { TestbedHost } from '../../src/testbed/index.js';

/** Measures the link from `src` to `dst`'s ferryd for `seconds`. */
export async function measureLinkBetween(
  src: TestbedHost,
  dst: TestbedHost,
  seconds: number,
): Promise<LinkMeasurement> {
  const r = await src.exec([
    process.execPath,
    '--import',
    'tsx',
    join(import.meta.dirname, 'measure-link-main.ts'),
    dst.tcpUri,
    dst.name,
    String(seconds),
  ]);
  if (r.code !== 0) throw new Error(`link measurement from ${src.name}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as LinkMeasurement;
}
