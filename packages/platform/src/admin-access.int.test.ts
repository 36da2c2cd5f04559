/**
 * Who may call the management and data API of the all-in-one runner, where
 * it shares its port with the collection API: browser origins (CORS) and
 * tokens. Real HTTP against a running platform (embedded bus, chDB).
 */
import { describe, expect, it } from 'vitest';
import { startTestPlatform, usePlatform } from './e2e-scenarios.js';

const CONSOLE = 'https://console.example';

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
  const c = usePlatform(() => startTestPlatform({ CDP_CONSOLE_ORIGIN: CONSOLE }));

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
});
