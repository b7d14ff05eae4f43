/**
 * Runs one src/storage/netfs.ts function inside a testbed host (the test process is outside
 * the hosts' networks): `node --import tsx netfs-call.ts OP HOST EXPORT [JSON]`. Prints the
 * result as JSON, or `error: CODE message` on stderr with exit code 1.
 * @module
 */
import { FerryError, messageOf } from '../../src/common/errors.js';
import {
  createVolume,
  deleteVolume,
  listVolumes,
  poolSpace,
  volumeInfo,
  type NetfsCreateRequest,
} from '../../src/storage/netfs.js';

const [op, host, exportPath, arg] = process.argv.slice(2);

async function call(): Promise<unknown> {
  if (host === undefined || exportPath === undefined)
    throw new Error('usage: OP HOST EXPORT [ARG]');
  const loc = { host, exportPath };
  switch (op) {
    case 'list':
      return listVolumes(loc);
    case 'space':
      return poolSpace(loc);
    case 'info':
      return (await volumeInfo(loc, arg ?? '')) ?? null;
    case 'create':
      return createVolume(loc, JSON.parse(arg ?? '{}') as NetfsCreateRequest);
    case 'delete':
      await deleteVolume(loc, arg ?? '');
      return null;
    default:
      throw new Error(`unknown operation ${String(op)}`);
  }
}

try {
  process.stdout.write(`${JSON.stringify(await call())}\n`);
} catch (err) {
  const code = err instanceof FerryError ? err.code : 'ERROR';
  process.stderr.write(`error: ${code} ${messageOf(err)}\n`);
  process.exitCode = 1;
}
