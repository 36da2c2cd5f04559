import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  readonly port: number;
  readonly host?: string;
  /** Throws (or rejects) when the service cannot do its work: `/readyz` answers 503 with the message. */
  readonly ready: () => Promise<void>;
  readonly registry: Registry;
}

/**
 * The operations endpoints of a service without an HTTP API of its own (the
 * loader, the identity service): `/healthz` (the process answers), `/readyz`
 * (its dependencies answer) and `/metrics` (Prometheus).
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') {
      opts.ready().then(
        () => json(200, { status: 'ready' }),
        (err: unknown) =>
          json(503, {
            status: 'not_ready',
            error: err instanceof Error ? err.message : String(err),
          }),
      );
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    return json(404, { code: 'CDP_ERR_API_NOT_FOUND', message: `No route ${path ?? ''}` });
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '0.0.0.0', resolve));
  return server;
}
