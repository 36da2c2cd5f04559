import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, loadConsoleAssets, registerConsoleRoutes } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdp-console-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><script src="/console/assets/app-1.js"></script>',
  );
  await writeFile(join(dir, 'assets', 'app-1.js'), 'console.log("hi");'.repeat(50));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('serving the console', () => {
  it('serves the page at / and /console with a strict CSP, never cached', async () => {
    const app = Fastify();
    registerConsoleRoutes(app, loadConsoleAssets(dir));
    for (const url of ['/', '/console', '/console/']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('/console/assets/app-1.js');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
  });

  it('serves hashed assets gzipped, cached for good, and revalidates by ETag', async () => {
    const app = Fastify();
    registerConsoleRoutes(app, loadConsoleAssets(dir));
    const res = await app.inject({
      url: '/console/assets/app-1.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['cache-control']).toContain('immutable');
    expect(gunzipSync(res.rawPayload).toString()).toBe('console.log("hi");'.repeat(50));
    const again = await app.inject({
      url: '/console/assets/app-1.js',
      headers: { 'if-none-match': String(res.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    const plain = await app.inject({ url: '/console/assets/app-1.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe('console.log("hi");'.repeat(50));
    const missing = await app.inject({ url: '/console/assets/../index.js' });
    expect(missing.statusCode).toBe(404);
  });

  it('answers a 404 saying how to build it when there is no build', async () => {
    const app = Fastify();
    registerConsoleRoutes(app, loadConsoleAssets(join(dir, 'nowhere')));
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'CDP_ERR_API_NOT_FOUND' });
    expect(res.json().message).toContain('npm run build');
  });
});
