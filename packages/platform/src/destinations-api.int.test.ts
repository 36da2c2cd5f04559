/**
 * Destinations through the API of the all-in-one platform, from ingest to a
 * local webhook receiver: a destination is created (its secret answered
 * masked), connected to an audience, and the first sync starts at once and
 * delivers the members, signed; the connection and the run history say what
 * was sent; bad bodies are 400s naming the field, unknown ids 404s.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '@cdp/destinations';
import { tempDir, waitFor } from '@cdp/testkit';
import {
  adminApi,
  sendBatch,
  startTestPlatform,
  usePlatform,
  waitForRunEvents,
} from './e2e-scenarios.js';

import { BIN } from './cli-child.js';

const run$ = promisify(execFile);
const c = usePlatform(() =>
  startTestPlatform({ CDP_TAGS_INTERVAL: '3600', CDP_AUDIENCES_TICK_MS: '3600000' }),
);
const SECRET = 'whsec_platform_test_0001';
const received: { audience: string; changes: { personId: string; change: string }[] }[] = [];
let verified = 0;
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (x: Buffer) => chunks.push(x));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!verifyWebhook(SECRET, req.headers, body).ok) return void res.writeHead(401).end();
      verified++;
      received.push(JSON.parse(body.toString('utf8')) as (typeof received)[0]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdp`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

describe('destinations through the API (all-in-one)', () => {
  it('connects an audience to a webhook: the first sync delivers its members, signed', async () => {
    const run = randomUUID().slice(0, 8);
    const users = ['ada', 'bob'].map((u) => `${u}-${run}`);
    await sendBatch(
      c,
      users.map((u) => ({
        type: 'track',
        userId: u,
        event: 'Order Completed',
        properties: { run },
      })),
    );
    await waitForRunEvents(c, run, 2);
    const name = `buyers-${run}`;
    const created = await adminApi(c, 'POST', '/v1/audiences', {
      name,
      definition: {
        conditions: {
          performed: {
            event: 'Order Completed',
            where: [{ property: 'run', op: 'eq', value: run }],
          },
        },
      },
      refresh: 'manual',
    });
    expect(created.status, created.text).toBe(201);
    expect((await adminApi(c, 'POST', `/v1/audiences/${name}/refresh`)).status).toBe(200);

    const dest = await adminApi<{ destination: { id: string; config: Record<string, unknown> } }>(
      c,
      'POST',
      '/v1/destinations',
      { name: 'crm hook', type: 'webhook', config: { url, secret: SECRET } },
    );
    expect(dest.status, dest.text).toBe(201);
    const id = dest.json.destination.id;
    expect(dest.json.destination.config).toMatchObject({
      url,
      secret: '****0001',
      batchSize: 1000,
    });
    expect(dest.text).not.toContain(SECRET);
    const listed = await adminApi(c, 'GET', '/v1/destinations');
    expect(listed.text).not.toContain(SECRET);

    const conn = await adminApi(c, 'POST', `/v1/audiences/${name}/destinations`, {
      destinationId: id,
    });
    expect(conn.status, conn.text).toBe(201);
    await waitFor(
      async () =>
        expect(
          received
            .filter((r) => r.audience === name)
            .flatMap((r) => r.changes.map((x) => x.change))
            .sort(),
        ).toEqual(['entered', 'entered']),
      { timeoutMs: 20_000 },
    );
    expect(verified).toBeGreaterThan(0);
    await waitFor(async () => {
      const cs = await adminApi<{ connections: { lastRun: { status: string; added: number } }[] }>(
        c,
        'GET',
        `/v1/audiences/${name}/destinations`,
      );
      expect(cs.json.connections[0]?.lastRun).toMatchObject({ status: 'done', added: 2 });
    });
    const runs = await adminApi<{ runs: { audience: string; added: number }[] }>(
      c,
      'GET',
      `/v1/destinations/${id}/runs`,
    );
    expect(runs.json.runs[0]).toMatchObject({ audience: name, added: 2 });
    // On demand: nothing left to send.
    const again = await adminApi<{ run: { added: number; removed: number } }>(
      c,
      'POST',
      `/v1/audiences/${name}/destinations/${id}/sync`,
    );
    expect(again.json.run).toMatchObject({ added: 0, removed: 0 });
  });

  it('answers 400 naming the field for a bad destination, 404 for an unknown one', async () => {
    const bad = await adminApi<{ code: string; field: string }>(c, 'POST', '/v1/destinations', {
      name: 'x',
      type: 'webhook',
      config: { url: 'not a url', secret: SECRET },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'CDP_ERR_DESTINATION_INVALID', field: 'config.url' });
    const missing = await adminApi<{ code: string }>(c, 'GET', `/v1/destinations/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('CDP_ERR_DESTINATION_NOT_FOUND');
    const noAudience = await adminApi(c, 'POST', '/v1/audiences/nope-nope/destinations', {
      destinationId: randomUUID(),
    });
    expect(noAudience.status).toBe(404);
  });

  it('is driven from the CLI: create from a file, connect, sync, runs, delete', async () => {
    const run = randomUUID().slice(0, 8);
    const user = `cli-${run}`;
    await sendBatch(c, [
      { type: 'track', userId: user, event: 'Order Completed', properties: { run } },
    ]);
    await waitForRunEvents(c, run, 1);
    const name = `cli-buyers-${run}`;
    await adminApi(c, 'POST', '/v1/audiences', {
      name,
      definition: {
        conditions: {
          performed: {
            event: 'Order Completed',
            where: [{ property: 'run', op: 'eq', value: run }],
          },
        },
      },
      refresh: 'manual',
    });
    await adminApi(c, 'POST', `/v1/audiences/${name}/refresh`);
    const dir = await tempDir('cdp-destinations-cli');
    try {
      const file = dir.join('hook.json');
      await writeFile(
        file,
        JSON.stringify({
          name: `cli hook ${run}`,
          type: 'webhook',
          config: { url, secret: SECRET },
        }),
      );
      const created = await cdp('create', file);
      expect(created.code, created.stderr).toBe(0);
      const id = /: ([0-9a-f-]{36})$/.exec(created.stdout.trim())?.[1] ?? '';
      expect(id).not.toBe('');
      const listed = await cdp('list');
      expect(listed.stdout).toContain(`cli hook ${run}`);
      expect((await cdp('get', id)).stdout).toContain('****0001');
      expect((await cdp('connect', name, id)).stdout).toContain('the first sync has started');
      await waitFor(async () =>
        expect((await cdp('connections', name)).stdout).toMatch(/done full, 1 added, 0 removed/),
      );
      expect((await cdp('sync', name, id)).stdout.trim()).toBe(
        `${name} v1: done diff, 0 added, 0 removed, 0 failed`,
      );
      const runs = (await cdp('runs', id)).stdout.trim().split('\n');
      expect(runs[0]?.split(/\s+/).slice(0, 4)).toEqual(['audience', 'version', 'status', 'mode']);
      expect(runs).toHaveLength(4);
      const bad = await cdp('connect', name);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('usage: cdp destinations connect <audience> <id>');
      expect((await cdp('delete', id)).stdout.trim()).toBe(`deleted ${id}`);
      expect((await cdp('get', id)).stderr).toContain('CDP_ERR_DESTINATION_NOT_FOUND');
    } finally {
      await dir.remove();
    }
  });
});

/** Runs `cdp destinations <args>`; answers its output and exit code (no throw on a failure). */
async function cdp(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, CDP_URL: c.url, CDP_ADMIN_TOKEN: c.admin };
  try {
    const r = await run$(process.execPath, [BIN, 'destinations', ...args], { env });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}
