/**
 * The read-only analytics token (`CDP_ANALYTICS_TOKEN`) as `buildApiApp`
 * wires it: it reads what the admin token reads (SQL, analytics, people,
 * tags) and is refused, with a 403 and before anything happens, everything
 * that manages (sources, tag definitions and runs, splitting and erasing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger, topics as topicNames } from '@cdp/core';
import type { Bus, ProduceRecord } from '@cdp/bus';
import type { SourceRegistry } from '@cdp/sources';
import type { TagService } from '@cdp/tag-store';
import type { Warehouse } from '@cdp/warehouse';
import { buildApiApp } from './app.js';

const ADMIN = 'cdp_admin_test_token';
const ANALYTICS = 'cdp_analytics_test_token';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Route = readonly [method: Method, url: string, body?: unknown];

const READS: readonly Route[] = [
  ['POST', '/v1/sql', { query: 'SELECT 1' }],
  ['GET', '/v1/attribution?from=2024-01-01&to=2024-02-01&conversion=Order%20Completed'],
  ['POST', '/v1/funnels', { steps: ['a', 'b'] }],
  ['POST', '/v1/paths', {}],
  ['GET', '/v1/persons/lookup?type=user_id&value=u1'],
  ['GET', '/v1/persons/p1'],
  ['GET', '/v1/tags'],
  ['GET', '/v1/tags/runs'],
  ['GET', '/v1/tags/vip'],
  ['GET', '/v1/tags/vip/distribution'],
];

const MANAGEMENT: readonly Route[] = [
  ['GET', '/v1/sources'],
  ['POST', '/v1/sources', { name: 'x' }],
  ['GET', '/v1/sources/src_1'],
  ['PATCH', '/v1/sources/src_1', { name: 'y' }],
  ['POST', '/v1/sources/src_1/rotate-key', {}],
  ['POST', '/v1/tags', { name: 'x' }],
  ['PUT', '/v1/tags/vip', { name: 'vip' }],
  ['DELETE', '/v1/tags/vip'],
  ['POST', '/v1/tags/recompute', {}],
  ['GET', '/v1/persons/p1/export'],
  ['POST', '/v1/persons/p1/split', {}],
  ['DELETE', '/v1/persons/p1'],
];

describe('the analytics token', () => {
  let app: FastifyInstance;
  const calls: string[] = [];
  const produced: ProduceRecord[] = [];

  beforeAll(async () => {
    const record = (what: string) => async (): Promise<never[]> => {
      calls.push(what);
      return [];
    };
    const warehouse = {
      kind: 'chdb',
      ping: async () => {},
      query: record('query'),
      command: record('command'),
      insert: record('insert'),
      queryReadonly: async () => {
        calls.push('queryReadonly');
        return { rows: [{ one: 1 }], truncated: false };
      },
    } as unknown as Warehouse;
    const bus = {
      kind: 'embedded',
      ping: async () => {},
      produce: async (_topic: string, records: readonly ProduceRecord[]) => {
        produced.push(...records);
      },
    } as unknown as Bus;
    const sources = {
      list: () => [],
      get: () => undefined,
      anyAllowsOrigin: () => false,
      create: record('sources.create'),
      update: record('sources.update'),
      rotateKey: record('sources.rotateKey'),
    } as unknown as SourceRegistry;
    const tags = new Proxy(
      {},
      {
        get: (_t, name) => async () => {
          calls.push(`tags.${String(name)}`);
          return [];
        },
      },
    ) as TagService;
    app = await buildApiApp({
      bus,
      warehouse,
      sources,
      tags,
      topics: topicNames('cdp.'),
      logger: createLogger({ service: 'analytics-token-test', level: 'silent' }),
      adminToken: ADMIN,
      analyticsToken: ANALYTICS,
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  const call = (token: string, [method, url, body]: Route) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  it.each(READS.map((route) => ({ route, method: route[0], url: route[1] })))(
    'may $method $url, answered as the admin token is',
    async ({ route }) => {
      const asAdmin = await call(ADMIN, route);
      const asAnalytics = await call(ANALYTICS, route);
      expect(asAnalytics.statusCode).not.toBe(401);
      expect(asAnalytics.statusCode).not.toBe(403);
      expect({ status: asAnalytics.statusCode, body: asAnalytics.json<unknown>() }).toEqual({
        status: asAdmin.statusCode,
        body: asAdmin.json<unknown>(),
      });
    },
  );

  it('runs SQL', async () => {
    const r = await call(ANALYTICS, ['POST', '/v1/sql', { query: 'SELECT 1 AS one' }]);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ rows: [{ one: 1 }], truncated: false });
  });

  it.each(MANAGEMENT.map((route) => ({ route, method: route[0], url: route[1] })))(
    'may not $method $url: 403 CDP_ERR_API_FORBIDDEN, and nothing happens',
    async ({ route }) => {
      calls.length = 0;
      produced.length = 0;
      const r = await call(ANALYTICS, route);
      expect(r.statusCode).toBe(403);
      expect(r.json()).toMatchObject({ code: 'CDP_ERR_API_FORBIDDEN', field: 'authorization' });
      expect(calls).toEqual([]);
      expect(produced).toEqual([]);
    },
  );

  it('a wrong token is still a 401', async () => {
    const r = await call('cdp_analytics_wrong_token', ['POST', '/v1/sql', { query: 'SELECT 1' }]);
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ code: 'CDP_ERR_API_UNAUTHORIZED' });
  });

  it('refuses an analytics token equal to the admin token', async () => {
    await expect(
      buildApiApp({
        bus: {} as Bus,
        warehouse: {} as Warehouse,
        sources: {} as SourceRegistry,
        topics: topicNames('cdp.'),
        logger: createLogger({ service: 'analytics-token-test', level: 'silent' }),
        adminToken: ADMIN,
        analyticsToken: ADMIN,
      }),
    ).rejects.toMatchObject({ code: 'CDP_ERR_CONFIG_INVALID', field: 'CDP_ANALYTICS_TOKEN' });
  });
});
