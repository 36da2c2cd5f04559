/**
 * CORS of the management API as `buildApiApp` wires it: no browser origin but
 * the console's (CDP_CONSOLE_ORIGIN) may call it, preflight or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger, topics as topicNames } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import type { SourceRegistry } from '@cdp/sources';
import type { Warehouse } from '@cdp/warehouse';
import { buildApiApp } from './app.js';

const ADMIN = 'cdp_admin_test_token';
const CONSOLE = 'https://console.example';

async function app(consoleOrigin?: string): Promise<FastifyInstance> {
  return buildApiApp({
    bus: { kind: 'embedded', ping: async () => {} } as unknown as Bus,
    warehouse: { kind: 'chdb', ping: async () => {} } as unknown as Warehouse,
    // Sources that, like the default one, allow every origin.
    sources: { list: () => [], anyAllowsOrigin: () => true } as unknown as SourceRegistry,
    topics: topicNames('cdp.'),
    logger: createLogger({ service: 'cors-test', level: 'silent' }),
    adminToken: ADMIN,
    consoleOrigin,
  });
}

const preflight = (origin: string, url = '/v1/sql') => ({
  method: 'OPTIONS' as const,
  url,
  headers: {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization, content-type',
  },
});

describe('admin API CORS', () => {
  let none: FastifyInstance;
  let withConsole: FastifyInstance;
  beforeAll(async () => {
    none = await app();
    withConsole = await app(CONSOLE);
  });
  afterAll(async () => {
    await none?.close();
    await withConsole?.close();
  });

  it.each(['/v1/sql', '/v1/sources', '/v1/persons/p1', '/v1/tags/x'])(
    'refuses a preflight to %s from any origin when no console origin is set',
    async (url) => {
      for (const origin of ['https://shop.example', CONSOLE, 'null']) {
        const r = await none.inject(preflight(origin, url));
        expect(r.statusCode).toBe(403);
        expect(r.json()).toMatchObject({ code: 'CDP_ERR_API_FORBIDDEN', field: 'origin' });
        expect(r.headers['access-control-allow-origin']).toBeUndefined();
        expect(r.headers['access-control-allow-headers']).toBeUndefined();
      }
    },
  );

  it("answers the console's preflight, and only the console's", async () => {
    const ok = await withConsole.inject(preflight(CONSOLE));
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(ok.headers['access-control-allow-headers']).toMatch(/Authorization/);
    const other = await withConsole.inject(preflight('https://shop.example'));
    expect(other.statusCode).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets the console read answers (errors too), and no other origin', async () => {
    const auth = { authorization: `Bearer ${ADMIN}` };
    const fromConsole = await withConsole.inject({
      url: '/v1/sources',
      headers: { ...auth, origin: CONSOLE },
    });
    expect(fromConsole.statusCode).toBe(200);
    expect(fromConsole.headers['access-control-allow-origin']).toBe(CONSOLE);
    const refused = await withConsole.inject({ url: '/v1/sources', headers: { origin: CONSOLE } });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(CONSOLE);
    for (const a of [none, withConsole]) {
      const other = await a.inject({
        url: '/v1/sources',
        headers: { ...auth, origin: 'https://shop.example' },
      });
      expect(other.statusCode).toBe(200);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});
