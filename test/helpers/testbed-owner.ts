/**
 * The owner process of the testbed crash test (test/integration/testbed.test.ts): makes a
 * testbed, prints its name and directory as one JSON line, and waits to be killed.
 * @module
 */
import { createTestbed } from '../../src/testbed/index.js';

const tb = await createTestbed({ hosts: 2 });
process.stdout.write(`${JSON.stringify({ name: tb.name, dir: tb.dir })}\n`);
setInterval(() => undefined, 60_000);
