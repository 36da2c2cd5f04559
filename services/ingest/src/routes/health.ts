import type { FastifyInstance } from 'fastify';
import type { IngestContext } from '../app.js';

/** `/healthz` (the process answers), `/readyz` (bus and warehouse reachable), `/metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, ctx: IngestContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const check = async (f: () => Promise<void>): Promise<string> => {
      try {
        await f();
        return 'ok';
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    };
    const [bus, warehouse] = await Promise.all([
      check(() => ctx.deps.bus.ping()),
      check(() => ctx.deps.warehouse.ping()),
    ]);
    const ready = bus === 'ok' && warehouse === 'ok';
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      checks: {
        bus: { kind: ctx.deps.bus.kind, status: bus },
        warehouse: { kind: ctx.deps.warehouse.kind, status: warehouse },
      },
    });
  });
  app.get('/metrics', async (_req, reply) =>
    reply
      .header('content-type', ctx.metrics.registry.contentType)
      .send(await ctx.metrics.registry.metrics()),
  );
}
