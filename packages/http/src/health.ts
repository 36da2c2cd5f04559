import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** A dependency `/readyz` asks: the bus or the warehouse port (`kind` names its adapter). */
export interface ReadinessCheck {
  readonly kind: string;
  ping(): Promise<void>;
}

/** Consumers that keep failing (`@cdp/bus`'s `ConsumerHealth`). */
export interface ConsumerReadiness {
  stuck(): readonly {
    readonly consumer: string;
    readonly failingSince: number;
    readonly failures: number;
    readonly lastError: string;
    readonly oldestPendingMs: number;
  }[];
}

/** What {@link registerHealthRoutes} reports on. */
export interface HealthDeps {
  readonly bus: ReadinessCheck;
  readonly warehouse: ReadinessCheck;
  /** The process's consumers: one failing for long makes `/readyz` say not ready. */
  readonly consumers?: ConsumerReadiness | undefined;
  /** The Prometheus registry served at `/metrics`. */
  readonly registry: Registry;
}

/** `/healthz` (the process answers), `/readyz` (bus and warehouse reachable, no consumer stuck), `/metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
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
      check(() => deps.bus.ping()),
      check(() => deps.warehouse.ping()),
    ]);
    const stuck = deps.consumers?.stuck() ?? [];
    const ready = bus === 'ok' && warehouse === 'ok' && stuck.length === 0;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      checks: {
        bus: { kind: deps.bus.kind, status: bus },
        warehouse: { kind: deps.warehouse.kind, status: warehouse },
        ...(deps.consumers
          ? {
              consumers: {
                status: stuck.length === 0 ? 'ok' : 'stuck',
                stuck: stuck.map((c) => ({
                  consumer: c.consumer,
                  failingSince: new Date(c.failingSince).toISOString(),
                  failures: c.failures,
                  lastError: c.lastError,
                  oldestPendingSeconds: Math.round(c.oldestPendingMs / 1000),
                })),
              },
            }
          : {}),
      },
    });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', deps.registry.contentType).send(await deps.registry.metrics()),
  );
}
