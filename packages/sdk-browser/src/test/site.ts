/**
 * Two tiny HTTP servers for the browser tests, on two origins so that every
 * SDK request is cross-origin (as on a real site): a "site" serving pages that
 * embed the snippet, and an "ingest" serving the built script and recording
 * every request it gets, with scripted answers for `/v1/b`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CdpOptions } from '../options.js';
import { snippet } from '../snippet.js';

const pkgDir = fileURLToPath(new URL('../..', import.meta.url));
const bundlePath = join(pkgDir, 'dist', 'cdp.min.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The built script; built first when missing or older than the sources. */
export function builtBundle(): string {
  if (!existsSync(bundlePath) || statSync(bundlePath).mtimeMs < newestSource(join(pkgDir, 'src'))) {
    execFileSync(process.execPath, [join(pkgDir, 'build.mjs')], { stdio: 'pipe' });
  }
  return readFileSync(bundlePath, 'utf8');
}

/** A request the ingest server received. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly at: number;
}

/** A batch as the SDK posts it. */
export interface BatchBody {
  batch: (Record<string, unknown> & { messageId: string; context: Record<string, unknown> })[];
  writeKey: string;
  sentAt: string;
}

/** How the ingest answers one `/v1/b` request. */
export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Answer only after this long (the request is "in flight" meanwhile). */
  readonly delayMs?: number;
}

/** What a test page embeds. */
export interface PageConfig {
  /** `load()` options; `host` is the ingest's. */
  readonly options?: CdpOptions;
  /** Call `page()` from the snippet (default true). */
  readonly page?: boolean;
  /** Script run right after the snippet, before the SDK arrives. */
  readonly inline?: string;
}

export interface TestSites {
  /** Origin of the pages. */
  readonly siteOrigin: string;
  /** Origin of the ingest (script and `/v1/b`). */
  readonly ingestOrigin: string;
  readonly received: Received[];
  /** Answers for the next `/v1/b` requests, in order; then 200. */
  answers: Answer[];
  /** Delay before the script is served (calls queue in the stub meanwhile). */
  scriptDelayMs: number;
  /** URL of a page embedding the snippet with `cfg`; `query` is appended (e.g. UTM parameters). */
  pageUrl(cfg?: PageConfig, query?: string): string;
  /** `/v1/b` requests, bodies parsed. */
  posts(): (Received & { body: BatchBody })[];
  /** `/v1/b` requests answered so far (a delayed answer counts once it is sent). */
  answered(): number;
  /** Every event posted, in order. */
  events(): BatchBody['batch'];
  reset(): void;
  close(): Promise<void>;
}

const listen = (server: Server): Promise<string> =>
  new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });

export async function startTestSites(bundle: string): Promise<TestSites> {
  const received: Received[] = [];
  const state = { answers: [] as Answer[], scriptDelayMs: 0, answered: 0 };

  const ingest = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      received.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        text: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const cors = {
        'access-control-allow-origin': req.headers.origin ?? '*',
        'access-control-expose-headers': 'Retry-After',
      };
      if (req.method === 'GET' && path === '/s/c.js') {
        setTimeout(() => {
          res.writeHead(200, {
            'content-type': 'application/javascript',
            'cache-control': 'no-store',
          });
          res.end(bundle);
        }, state.scriptDelayMs);
        return;
      }
      if (req.method === 'POST' && path === '/v1/b') {
        const a = state.answers.shift() ?? { status: 200 };
        setTimeout(() => {
          res.writeHead(a.status, { 'content-type': 'application/json', ...cors, ...a.headers });
          res.end(JSON.stringify({ success: a.status < 300, accepted: 0, rejected: [] }), () => {
            state.answered++;
          });
        }, a.delayMs ?? 0);
        return;
      }
      // Preflights land here too: answered, and recorded for the tests to refuse.
      res.writeHead(req.method === 'OPTIONS' ? 204 : 404, cors);
      res.end();
    });
  });
  const ingestOrigin = await listen(ingest);

  const site = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    if (url.pathname !== '/page') {
      res.writeHead(url.pathname === '/plain' ? 200 : 404, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>plain</title><p>no SDK here</p>');
      return;
    }
    const cfg = JSON.parse(url.searchParams.get('cfg') ?? '{}') as PageConfig;
    const code = snippet({
      host: ingestOrigin,
      writeKey: 'wk_test',
      ...(cfg.options ? { options: cfg.options } : {}),
      ...(cfg.page === false ? { page: false } : {}),
    });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      `<!doctype html><html><head><title>Test page</title><script>${code}</script>` +
        `<script>${cfg.inline ?? ''}</script></head><body><p>page</p></body></html>`,
    );
  });
  const siteOrigin = await listen(site);

  const posts = (): (Received & { body: BatchBody })[] =>
    received
      .filter((r) => r.method === 'POST' && r.path === '/v1/b')
      .map((r) => ({ ...r, body: JSON.parse(r.text) as BatchBody }));

  return {
    siteOrigin,
    ingestOrigin,
    received,
    get answers() {
      return state.answers;
    },
    set answers(a) {
      state.answers = a;
    },
    get scriptDelayMs() {
      return state.scriptDelayMs;
    },
    set scriptDelayMs(ms) {
      state.scriptDelayMs = ms;
    },
    pageUrl: (cfg = {}, query = '') =>
      `${siteOrigin}/page?cfg=${encodeURIComponent(JSON.stringify(cfg))}${query ? `&${query}` : ''}`,
    posts,
    events: () => posts().flatMap((p) => p.body.batch),
    answered: () => state.answered,
    reset() {
      received.length = 0;
      state.answers = [];
      state.answered = 0;
      state.scriptDelayMs = 0;
    },
    close: async () => {
      for (const s of [ingest, site]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
