/**
 * The owner process of the testbed crash tests (test/integration/testbed.test.ts,
 * storage-nfs.test.ts): makes a testbed (with an NFS server on h1 when given `nfs`), prints its
 * name and directory as one JSON line, and waits to be killed.
 * @module
 */
import { createTestbed } from '../../src/testbed/index.js';

const nfs = process.argv[2] === 'nfs';
const tb = await createTestbed({
  hosts: 2,
  ...(nfs ? { nfs: { host: 'h1' }, ferryd: false } : {}),
});
process.stdout.write(`${JSON.stringify({ name: tb.name, dir: tb.dir })}\n`);
setInterval(() => undefined, 60_000);
