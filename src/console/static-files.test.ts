import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  assetPathOf,
  cacheControlOf,
  contentTypeOf,
  injectSessionMeta,
  serveStatic,
} from './static-files.js';

void test('assetPathOf() maps paths inside the web directory only', () => {
  assert.equal(assetPathOf('/'), 'index.html');
  assert.equal(assetPathOf('/index.html'), 'index.html');
  assert.equal(assetPathOf('/assets/index-abc123.js'), 'assets/index-abc123.js');
  assert.equal(assetPathOf('/assets/a%20b.css'), 'assets/a b.css');
  for (const bad of [
    '/../etc/passwd',
    '/assets/../../etc/passwd',
    '/%2e%2e/etc/passwd',
    '/assets/%2e%2e/%2e%2e/x',
    '/..%2fetc%2fpasswd',
    '/assets/..\\..\\x',
    '/.env',
    '/assets//x.js',
    '/x%00.js',
    '/%E0%A4%A',
    'relative',
  ])
    assert.equal(assetPathOf(bad), undefined, bad);
});

void test('content types and cache policy', () => {
  assert.equal(contentTypeOf('index.html'), 'text/html; charset=utf-8');
  assert.equal(contentTypeOf('assets/x.JS'), 'text/javascript; charset=utf-8');
  assert.equal(contentTypeOf('assets/x.css'), 'text/css; charset=utf-8');
  assert.equal(contentTypeOf('a.svg'), 'image/svg+xml');
  assert.equal(contentTypeOf('a.exe'), 'application/octet-stream');
  assert.equal(cacheControlOf('index.html'), 'no-store');
  assert.equal(cacheControlOf('assets/index-abc.js'), 'public, max-age=31536000, immutable');
  assert.equal(cacheControlOf('favicon.svg'), 'no-cache');
});

void test('injectSessionMeta() puts the escaped csrf and user meta tags in the head', () => {
  const html = injectSessionMeta(
    '<html><head><title>x</title></head><body></body></html>',
    'tok',
    '<u">',
  );
  assert.equal(
    html,
    '<html><head><title>x</title><meta name="ferry-csrf" content="tok"><meta name="ferry-user" content="&lt;u&quot;&gt;"></head><body></body></html>',
  );
});

async function get(
  t: TestContext,
  root: string,
  path: string,
): Promise<{ status: number; type: string | undefined; body: string }> {
  const server = createServer((req, res) => {
    void serveStatic(req, res, path, { root, csrf: 'c', user: 'u' }).then((served) => {
      if (!served) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const req = request({ host: '127.0.0.1', port: address.port, path: '/' });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, type: res.headers['content-type'], body };
}

void test('serveStatic() serves files and refuses a symlink leading out of the web directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-web-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'web');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<head></head>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  symlinkSync(join(dir, 'secret.txt'), join(root, 'assets', 'leak.txt'));
  const js = await get(t, root, '/assets/app.js');
  assert.deepEqual(js, {
    status: 200,
    type: 'text/javascript; charset=utf-8',
    body: 'console.log(1)',
  });
  const index = await get(t, root, '/');
  assert.match(index.body, /<meta name="ferry-csrf" content="c">/);
  assert.equal((await get(t, root, '/assets/leak.txt')).status, 404);
  assert.equal((await get(t, root, '/assets')).status, 404, 'a directory is not a file');
  assert.equal((await get(t, root, '/missing.js')).status, 404);
});
