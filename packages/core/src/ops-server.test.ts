import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { startOpsServer } from './ops-server.js';

describe('startOpsServer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => server?.close(r));
  });

  async function start(ready: () => Promise<void>): Promise<string> {
    const registry = new Registry();
    new Counter({ name: 'cdp_test_total', help: 'a test counter', registers: [registry] }).inc(3);
    server = await startOpsServer({ port: 0, host: '127.0.0.1', ready, registry });
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it('answers health, readiness and metrics', async () => {
    const url = await start(async () => {});
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('cdp_test_total 3');
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('is not ready, with the reason, when a dependency is down', async () => {
    const url = await start(() => Promise.reject(new Error('warehouse unreachable')));
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', error: 'warehouse unreachable' });
  });
});
