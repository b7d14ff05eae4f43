/**
 * A testbed for one test (src/testbed): made before the test body, removed in `t.after` even
 * when the test fails, with the tail of each host's ferryd log (and of the NFS server's) in the
 * test's diagnostics then.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { createTestbed, type Testbed, type TestbedOptions } from '../../src/testbed/index.js';

export type { Testbed, TestbedHost, TestbedOptions } from '../../src/testbed/index.js';

/** Lines of each ferryd log shown when the test failed. */
const LOG_TAIL_LINES = 30;

/** Makes a testbed whose removal is registered with `t.after`. */
export async function useTestbed(t: TestContext, options?: TestbedOptions): Promise<Testbed> {
  const tb = await createTestbed(options);
  t.after(async () => {
    // TestContext.passed exists on Node 20.20 but is missing from @types/node 20.
    if ((t as TestContext & { passed?: boolean }).passed === false) {
      for (const h of tb.hosts) {
        const tail = h.ferrydLog().trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
        t.diagnostic(`ferryd log of ${h.name} (${tb.name}), last lines:\n${tail}`);
      }
      if (tb.nfs !== undefined) {
        const text = existsSync(tb.nfs.log) ? readFileSync(tb.nfs.log, 'utf8') : '';
        const tail = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
        t.diagnostic(`NFS server log of ${tb.nfs.host} (${tb.name}), last lines:\n${tail}`);
      }
    }
    await tb.down();
  });
  return tb;
}
