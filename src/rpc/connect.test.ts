import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { z } from 'zod';
import { FerryError } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import { connectRpc, connectUri, defaultSocketPath, endpointOf } from './connect.js';
import { RpcServer } from './server.js';
import { listenTcp } from './transport/tcp.js';

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

void test('endpointOf() maps unix, tcp and tls URIs', () => {
  assert.deepEqual(endpointOf(parseConnectionUri('qemu:///system')), {
    kind: 'unix',
    path: '/run/ferry/ferry-sock',
  });
  assert.deepEqual(endpointOf(parseConnectionUri('qemu+unix:///system?socket=/tmp/s')), {
    kind: 'unix',
    path: '/tmp/s',
  });
  assert.deepEqual(endpointOf(parseConnectionUri('qemu+tcp://host.example/system')), {
    kind: 'tcp',
    host: 'host.example',
    port: 16509,
  });
  assert.deepEqual(endpointOf(parseConnectionUri('qemu+tcp://[::1]:4000/system')), {
    kind: 'tcp',
    host: '::1',
    port: 4000,
  });
  // libvirt's client files: pkipath, else ~/.pki/libvirt (users) or /etc/pki (root).
  assert.deepEqual(endpointOf(parseConnectionUri('qemu+tls://h.example/system?pkipath=/p')), {
    kind: 'tls',
    host: 'h.example',
    port: 16514,
    pki: { ca: '/p/cacert.pem', cert: '/p/clientcert.pem', key: '/p/clientkey.pem' },
    verifyServer: true,
  });
  // qemu://HOST means TLS, as in libvirt.
  assert.deepEqual(endpointOf(parseConnectionUri('qemu://h:4000/system?no_verify=1&pkipath=/p')), {
    kind: 'tls',
    host: 'h',
    port: 4000,
    pki: { ca: '/p/cacert.pem', cert: '/p/clientcert.pem', key: '/p/clientkey.pem' },
    verifyServer: false,
  });
  assert.throws(() => endpointOf(parseConnectionUri('qemu+tls://h/system?no_verify=yes')), {
    code: 'INVALID_ARG',
    message:
      "Invalid connection URI 'qemu+tls://h/system?no_verify=yes': no_verify must be 0 or 1, not 'yes'",
  });
});

void test('endpointOf() maps qemu+ssh URIs and their parameters to an ssh target', () => {
  const endpoint = endpointOf(
    parseConnectionUri(
      'qemu+ssh://admin@h2:2222/system?keyfile=/k/id&no_verify=1&socket=/s/sock&no_tty=1',
    ),
  );
  assert.deepEqual(endpoint, {
    kind: 'ssh',
    target: {
      host: 'h2',
      port: 2222,
      user: 'admin',
      keyfile: '/k/id',
      noVerify: true,
      socket: '/s/sock',
      uriPath: 'system',
      sshCommand: undefined,
      interactive: false,
    },
  });
  assert.throws(() => endpointOf(parseConnectionUri('qemu+ssh://h2/system?keyfiel=/k')), {
    code: 'INVALID_ARG',
    message:
      "Invalid connection URI 'qemu+ssh://h2/system?keyfiel=/k': unknown parameter 'keyfiel' (ssh takes keyfile, no_verify, socket, command, no_tty)",
  });
});

void test('connectUri() reaches a server over tcp, which sees the address dialled', async (t) => {
  const methods = {
    'host.info': { params: z.strictObject({}), result: z.string() },
  };
  const server = new RpcServer<typeof methods, { local: string }>(methods, {
    createState: ({ local }) => ({
      local: local?.kind === 'tcp' ? `${local.address}:${local.port}` : 'none',
    }),
  });
  server.implement('host.info', (_p, ctx) => ctx.connection.state.local);
  const listener = await listenTcp('127.0.0.2', 0, (transport) => server.handle(transport));
  t.after(async () => {
    await listener.close();
    server.close();
  });
  const { port } = listener.address;
  const client = await connectUri(
    parseConnectionUri(`qemu+tcp://127.0.0.2:${port}/system`),
    methods,
  );
  t.after(() => client.close());
  assert.equal(await client.call('host.info', {}), `127.0.0.2:${port}`);
});

void test('connectUri() to a port nobody listens on names HOST:PORT and the reason', async () => {
  const probe = await listenTcp('127.0.0.2', 0, () => undefined);
  const { port } = probe.address;
  await probe.close();
  await assert.rejects(
    connectUri(parseConnectionUri(`qemu+tcp://127.0.0.2:${port}/system`), undefined),
    {
      code: 'CONNECT_FAILED',
      message: `Failed to connect to '127.0.0.2:${port}': Connection refused`,
    },
  );
});
