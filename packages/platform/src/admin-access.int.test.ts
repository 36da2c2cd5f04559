/**
 * Who may call the management and data API of the all-in-one runner, where
 * it shares its port with the collection API: browser origins (CORS) and
 * tokens. Real HTTP against a running platform (embedded bus, chDB).
 */
import { describe, expect, it } from 'vitest';
import { startTestPlatform, usePlatform } from './e2e-scenarios.js';

const CONSOLE = 'https://console.example';
const ANALYTICS = 'cdp_analytics_e2e_token_0123456789';

const preflight = (url: string, origin: string): Promise<Response> =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('admin API access (all-in-one)', () => {
  const c = usePlatform(() =>
    startTestPlatform({ CDP_CONSOLE_ORIGIN: CONSOLE, CDP_ANALYTICS_TOKEN: ANALYTICS }),
  );

  it('answers no admin preflight from a browser origin but the console, while collection keeps its CORS', async () => {
    // The default source allows every origin: collection preflights pass.
    const collect = await preflight(`${c.url}/v1/track`, 'https://shop.example');
    expect(collect.status).toBe(204);
    expect(collect.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    for (const path of ['/v1/sql', '/v1/sources', '/v1/persons/p1', '/v1/tags', '/v1/funnels']) {
      const refused = await preflight(`${c.url}${path}`, 'https://shop.example');
      expect({ path, status: refused.status }).toEqual({ path, status: 403 });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('access-control-allow-headers')).toBeNull();
      const console = await preflight(`${c.url}${path}`, CONSOLE);
      expect({ path, status: console.status }).toEqual({ path, status: 204 });
      expect(console.headers.get('access-control-allow-origin')).toBe(CONSOLE);
    }
    const read = await fetch(`${c.url}/v1/sources`, {
      headers: { authorization: `Bearer ${c.admin}`, origin: 'https://shop.example' },
    });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the analytics token queries and reads, and manages nothing', async () => {
    const as = (token: string, method: string, path: string, body?: unknown) =>
      fetch(`${c.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const q = await as(ANALYTICS, 'POST', '/v1/sql', {
      query: 'SELECT {n:UInt8} + 1 AS two',
      params: { n: 1 },
    });
    expect(q.status).toBe(200);
    expect(await q.json()).toEqual({ rows: [{ two: 2 }], truncated: false });
    expect((await as(ANALYTICS, 'GET', '/v1/tags')).status).toBe(200);
    const before = (await (await as(c.admin, 'GET', '/v1/sources')).json()) as {
      sources: unknown[];
    };
    for (const [method, path, body] of [
      ['GET', '/v1/sources'],
      ['POST', '/v1/sources', { name: 'from-analytics' }],
      ['POST', '/v1/tags', { name: 'from_analytics' }],
      ['POST', '/v1/tags/recompute', {}],
      ['DELETE', '/v1/persons/p1'],
    ] as const) {
      const r = await as(ANALYTICS, method, path, body);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 403 });
      expect(await r.json()).toMatchObject({ code: 'CDP_ERR_API_FORBIDDEN' });
    }
    const after = (await (await as(c.admin, 'GET', '/v1/sources')).json()) as {
      sources: unknown[];
    };
    expect(after.sources).toHaveLength(before.sources.length);
    expect(
      (await as('cdp_not_a_token_at_all', 'POST', '/v1/sql', { query: 'SELECT 1' })).status,
    ).toBe(401);
  });
});
