/**
 * Who may talk to a ferryd on this machine, and what a peer may claim: a non-root user on the
 * unix socket, and a peer that names a migration job this host never prepared.
 * @module
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { connectRpc } from '../../src/rpc/index.js';
import { METHODS } from '../../src/rpc/methods.js';
import { FERRY, run, startDaemon } from '../helpers/daemon.js';

test('a non-root user cannot use the root daemon’s unix socket', async (t) => {
  const d = await startDaemon(t);
  // nobody: the socket is 0600 and its directory 0700, so the kernel refuses the connect.
  const r = await run('setpriv', [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    process.execPath,
    FERRY,
    '-c',
    d.uri,
    'list',
    '--all',
  ]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    /^error: failed to connect to the hypervisor\nerror: Failed to connect socket to '.*ferry-sock': Permission denied\n$/,
  );
  // The daemon is untouched and still serves root.
  assert.match(await d.ferryOk('list', '--all'), /^ Id +Name +State/);
});

test('a peer finishing a migration job that does not exist is refused and logged', async (t) => {
  const d = await startDaemon(t);
  const peer = await connectRpc(d.socket, METHODS);
  t.after(() => peer.close());
  const jobId = randomUUID();
  await assert.rejects(
    peer.call('migration.finish', { jobId, success: true, suspend: false, persistent: true }),
    {
      code: 'OPERATION_INVALID',
      message: `Requested operation is not valid: no incoming migration job '${jobId}' on this host`,
    },
  );
  assert.deepEqual(await peer.call('migration.status', { jobId }), { phase: 'unknown' });
  assert.match(
    d.log(),
    new RegExp(`"job":"${jobId}".*peer finished a migration job that does not exist`),
  );
  assert.match(await d.ferryOk('list', '--all'), /^ Id +Name +State/);
  assert.equal(peer.closed, false);
});
