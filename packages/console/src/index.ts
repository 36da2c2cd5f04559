import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `build.mjs` writes the app: `index.html` and its hashed assets. */
export const CONSOLE_DIST_DIR = fileURLToPath(new URL('../dist/app', import.meta.url));

interface Asset {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
  readonly type: string;
}

/** The built console, read once into memory (it is a few hundred kilobytes). */
export interface ConsoleAssets {
  /** `index.html`; undefined when the console has not been built. */
  readonly index: Asset | undefined;
  /** Hashed files under `/console/assets/`, by file name. */
  readonly files: ReadonlyMap<string, Asset>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

function asset(path: string): Asset {
  const body = readFileSync(path);
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    type: TYPES[extname(path)] ?? 'application/octet-stream',
  };
}

/** Reads the built console from `dir` (default {@link CONSOLE_DIST_DIR}); nothing there is not an error. */
export function loadConsoleAssets(dir: string = CONSOLE_DIST_DIR): ConsoleAssets {
  const files = new Map<string, Asset>();
  if (!existsSync(join(dir, 'index.html'))) return { index: undefined, files };
  const assets = join(dir, 'assets');
  if (existsSync(assets)) {
    for (const name of readdirSync(assets)) files.set(name, asset(join(assets, name)));
  }
  return { index: asset(join(dir, 'index.html')), files };
}

/**
 * The page may load only its own scripts and styles and call only its own
 * origin (the API it is served by); it cannot be framed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function send(req: FastifyRequest, reply: FastifyReply, a: Asset, cache: string): FastifyReply {
  void reply
    .header('content-type', a.type)
    .header('cache-control', cache)
    .header('etag', a.etag)
    .header('vary', 'Accept-Encoding')
    .header('x-content-type-options', 'nosniff');
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  const accepts = req.headers['accept-encoding'];
  if (typeof accepts === 'string' && /\bgzip\b/.test(accepts)) {
    return reply.header('content-encoding', 'gzip').send(a.gzip);
  }
  return reply.send(a.body);
}

const NOT_BUILT = {
  code: 'CDP_ERR_API_NOT_FOUND',
  message: 'The console has not been built: run `npm run build` (packages/console/dist/app)',
};

/**
 * Serves the console at `/` and `/console` (the page: never cached, so a new
 * build is picked up at the next load) and its assets at
 * `/console/assets/<name>-<hash>.<ext>` (cached for a year: a new build has
 * new names). No token is needed to load the page; it holds no data, and
 * every call it makes carries the token the user signs in with.
 */
export function registerConsoleRoutes(
  app: FastifyInstance,
  assets: ConsoleAssets = loadConsoleAssets(),
): void {
  const page = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (assets.index === undefined) return reply.code(404).send(NOT_BUILT);
    void reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer');
    return send(req, reply, assets.index, 'no-cache');
  };
  app.get('/', page);
  app.get('/console', page);
  app.get('/console/', page);
  app.get<{ Params: { file: string } }>('/console/assets/:file', async (req, reply) => {
    const a = assets.files.get(req.params.file);
    if (a === undefined) {
      return reply.code(404).send({ code: 'CDP_ERR_API_NOT_FOUND', message: 'No such file' });
    }
    return send(req, reply, a, 'public, max-age=31536000, immutable');
  });
}
