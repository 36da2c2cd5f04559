import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerHealthRoutes, type ConsumerReadiness } from './health.js';

const up = { kind: 'test', ping: async () => {} };

describe('/readyz', () => {
  it('is not ready while a consumer is stuck, and says which and why', async () => {
    let stuck: ReturnType<ConsumerReadiness['stuck']> = [];
    const app = Fastify();
    registerHealthRoutes(app, {
      bus: up,
      warehouse: up,
      registry: new Registry(),
      consumers: { stuck: () => stuck },
    });
    expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({
      status: 'ready',
      checks: { consumers: { status: 'ok', stuck: [] } },
    });
    stuck = [
      {
        consumer: 'identity.resolver',
        failingSince: Date.parse('2026-12-02T10:00:00Z'),
        failures: 7,
        lastError: 'missing second part of surrogate pair',
        oldestPendingMs: 95_000,
      },
    ];
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'not_ready',
      checks: {
        bus: { status: 'ok' },
        consumers: {
          status: 'stuck',
          stuck: [
            {
              consumer: 'identity.resolver',
              failingSince: '2026-12-02T10:00:00.000Z',
              failures: 7,
              oldestPendingSeconds: 95,
            },
          ],
        },
      },
    });
    await app.close();
  });
});
