import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { z } from 'zod';
import { FerryError } from '../common/errors.js';
import { connectRpc, defaultSocketPath } from './connect.js';

void test('defaultSocketPath() follows ferryd run directories for system and session', () => {
  assert.equal(defaultSocketPath('/system'), '/run/ferry/ferry-sock');
  assert.equal(
    defaultSocketPath('/session', { XDG_RUNTIME_DIR: '/run/user/1000' }, 1000),
    '/run/user/1000/ferry/ferry-sock',
  );
  assert.equal(defaultSocketPath('/session', {}, 1000), '/tmp/ferry-1000/ferry-sock');
  assert.throws(
    () => defaultSocketPath('/bogus'),
    (err: unknown) =>
      err instanceof FerryError &&
      err.code === 'INVALID_ARG' &&
      err.message === "Unexpected QEMU URI path '/bogus', try qemu:///system or qemu:///session",
  );
});

void test('connectRpc() to a missing socket fails like virsh', async () => {
  const methods = { 'host.info': { params: z.strictObject({}), result: z.null() } };
  await assert.rejects(connectRpc('/nonexistent/ferry-sock', methods), {
    code: 'CONNECT_FAILED',
    message: "Failed to connect socket to '/nonexistent/ferry-sock': No such file or directory",
  });
});
