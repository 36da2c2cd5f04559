/**
 * A tiny static web server for browser tests: the "shop" pages, emails and
 * vendor scripts a test serves from an origin other than the ingest's, as a
 * real website would. Not part of the product.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';

export interface TestSite {
  /** `http://<host>:<port>`. */
  readonly origin: string;
  readonly port: number;
  /** Serves `body` at `path` (HTML unless `type` says otherwise). */
  page(path: string, body: string, type?: string): void;
  /** Serves the files of `dir` under `prefix` (e.g. a vendor's built scripts). */
  mount(prefix: string, dir: string): void;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
};

/** Starts the site on a free port of `host` (default 127.0.0.1). */
export async function startTestSite(host = '127.0.0.1'): Promise<TestSite> {
  const pages = new Map<string, { body: string; type: string }>();
  const mounts: { prefix: string; dir: string }[] = [];
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push(req.url ?? '/');
    const hit = pages.get(path);
    if (hit) {
      res.writeHead(200, { 'content-type': hit.type, 'cache-control': 'no-store' });
      res.end(hit.body);
      return;
    }
    const mount = mounts.find((m) => path.startsWith(m.prefix));
    if (mount) {
      const file = normalize(join(mount.dir, path.slice(mount.prefix.length)));
      if (!file.startsWith(mount.dir)) {
        res.writeHead(403).end();
        return;
      }
      readFile(file).then(
        (buf) => {
          const ext = file.slice(file.lastIndexOf('.'));
          res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream' });
          res.end(buf);
        },
        () => res.writeHead(404).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `http://${host}:${port}`,
    port,
    requests,
    page: (path, body, type = TYPES['.html'] ?? 'text/html') => pages.set(path, { body, type }),
    mount: (prefix, dir) => mounts.push({ prefix, dir: normalize(dir) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
