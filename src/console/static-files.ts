/**
 * The built front end (Vite's dist/web) served to signed-in browsers: a URL path maps to a
 * file inside the web directory only (no `..`, no dot files, no symlink leading out), with its
 * content type; `index.html` gets the session's CSRF token and user as meta tags; hashed
 * assets may be cached for good, HTML never.
 * @module
 */
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { escapeHtml } from './login-page.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** The content type of a file name; unknown kinds are opaque bytes (never sniffed, see nosniff). */
export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The relative file a URL path names under the web directory, or undefined when it may not
 * name one: bad percent-encoding, NUL, backslashes, `.`/`..` or dot-file segments. `/` is
 * index.html.
 */
export function assetPathOf(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\'))
    return undefined;
  const segments = decoded.slice(1).split('/');
  if (segments.length === 1 && segments[0] === '') return 'index.html';
  if (segments.some((s) => s === '' || s.startsWith('.'))) return undefined;
  return segments.join('/');
}

/** The Cache-Control of a served file: hashed assets for a year, HTML never, others revalidated. */
export function cacheControlOf(relative: string): string {
  if (relative.endsWith('.html')) return 'no-store';
  if (relative.startsWith('assets/')) return 'public, max-age=31536000, immutable';
  return 'no-cache';
}

/** index.html with `<meta name="ferry-csrf">` and `<meta name="ferry-user">` in its head. */
export function injectSessionMeta(html: string, csrf: string, user: string): string {
  const meta =
    `<meta name="ferry-csrf" content="${escapeHtml(csrf)}">` +
    `<meta name="ferry-user" content="${escapeHtml(user)}">`;
  const at = html.search(/<\/head>/i);
  return at < 0 ? meta + html : html.slice(0, at) + meta + html.slice(at);
}

/** Resolves a relative file inside `root`, following symlinks, refusing anything outside. */
async function resolveInside(root: string, relative: string): Promise<string | undefined> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(join(realRoot, relative));
    if (!real.startsWith(realRoot + sep)) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

export interface StaticContext {
  readonly root: string;
  readonly csrf: string;
  readonly user: string;
}

/**
 * Serves GET/HEAD `urlPath` from the web directory; returns false (nothing sent) when there
 * is no such file, for the caller's 404.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  urlPath: string,
  ctx: StaticContext,
): Promise<boolean> {
  const relative = assetPathOf(urlPath);
  if (relative === undefined) return false;
  const file = await resolveInside(ctx.root, relative);
  if (file === undefined) return false;
  res.setHeader('Content-Type', contentTypeOf(file));
  res.setHeader('Cache-Control', cacheControlOf(relative));
  if (relative === 'index.html') {
    const body = Buffer.from(injectSessionMeta(await readFile(file, 'utf8'), ctx.csrf, ctx.user));
    res.setHeader('Content-Length', body.length);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  const { size } = await stat(file);
  res.setHeader('Content-Length', size);
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file);
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    stream.on('end', resolve);
    stream.pipe(res);
  });
  return true;
}
