/**
 * A testbed for one test: created before, removed after (also when the test fails).
 * @module
 */
import type { TestContext } from 'node:test';
import { createTestbed, type Testbed, type TestbedOptions } from '../../src/testbed/index.js';

export async function useTestbed(t: TestContext, options: TestbedOptions = {}): Promise<Testbed> {
  const tb = await createTestbed(options);
  t.after(async () => {
    await tb.down();
  });
  return tb;
}
