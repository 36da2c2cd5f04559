/**
 * Live metrics and alerts end to end on the all-in-one platform (default
 * loader flush): events sent through ingest show in the current minute of
 * GET /v1/metrics/live within 5 s; the alert API (create, list, test,
 * events, update keeping the masked secret, delete) and its refusals; the
 * built CLI's `cdp metrics` and `cdp alerts`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@cdp/testkit';
import { adminApi, sendBatch, startTestPlatform, usePlatform } from './e2e-scenarios.js';

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const run$ = promisify(execFile);

const c = usePlatform(() =>
  startTestPlatform({ CDP_LOADER_FLUSH_MS: '1000', CDP_ALERTS_INTERVAL_MS: '3600000' }),
);

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir('cdp-metrics-cli');
});
afterAll(async () => {
  await dir.remove();
});

async function cdp(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, CDP_URL: c.url, CDP_ADMIN_TOKEN: c.admin };
  try {
    return { ...(await run$(process.execPath, [BIN, ...args], { env })), code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

type Live = { metrics: Record<string, { t: string; value: number | null; key?: string }[]> };
const total = (l: Live, metric: string, key?: string): number =>
  (l.metrics[metric] ?? [])
    .filter((p) => key === undefined || p.key === key)
    .reduce((a, p) => a + (p.value ?? 0), 0);

describe('live metrics and alerts (all-in-one)', () => {
  it('events sent through ingest are in the live minute within 5 s', async () => {
    const before = await adminApi<Live>(c, 'GET', '/v1/metrics/live?breakdown=channel');
    expect(before.status).toBe(200);
    const run = randomUUID().slice(0, 8);
    const n = 20;
    const at = new Date().toISOString();
    const sent = Date.now();
    await sendBatch(
      c,
      Array.from({ length: n }, (_, i) => ({
        type: 'track',
        messageId: `${run}-${i}`,
        anonymousId: `${run}-anon-${i}`,
        event: 'Order Completed',
        properties: { revenue: 10 },
        context: { campaign: { source: 'newsletter', medium: 'email', name: `spring-${run}` } },
        timestamp: at,
      })),
    );
    let seenAfter = -1;
    let live: Live | undefined;
    while (Date.now() - sent < 10_000) {
      live = (await adminApi<Live>(c, 'GET', '/v1/metrics/live?breakdown=channel')).json;
      if (total(live, 'conversions') - total(before.json, 'conversions') >= n) {
        seenAfter = Date.now() - sent;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seenAfter, 'ms until the live view had the events').toBeGreaterThanOrEqual(0);
    expect(seenAfter).toBeLessThanOrEqual(5000);
    expect(total(live!, 'conversions', 'Email') - total(before.json, 'conversions', 'Email')).toBe(
      n,
    );
    expect(total(live!, 'revenue') - total(before.json, 'revenue')).toBe(10 * n);
    // The same through a series filtered to the campaign.
    const s = await adminApi<{ points: { value: number }[] }>(
      c,
      'GET',
      `/v1/metrics/uv?interval=1m&from=${encodeURIComponent(new Date(sent - 120_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&utm_campaign=spring-${run}`,
    );
    expect(s.status).toBe(200);
    expect(s.json.points.reduce((a, p) => a + p.value, 0)).toBe(n);
  });

  it('alerts through the API: create, list, test, events, update, delete; refusals name the field', async () => {
    const body = {
      name: 'conversions down',
      metric: 'conversion_rate',
      windowMinutes: 60,
      compare: 'week_ago',
      direction: 'down',
      change: 0.15,
      minVolume: 500,
      breakdown: 'channel',
      webhook: { url: 'http://127.0.0.1:9/hook', secret: 'topsecret' },
    };
    const created = await adminApi<{ alert: { id: string; webhook: { secret: string } } }>(
      c,
      'POST',
      '/v1/alerts',
      body,
    );
    expect(created.status).toBe(201);
    const id = created.json.alert.id;
    expect(created.json.alert.webhook.secret).toBe('****cret');
    const listed = await adminApi<{ alerts: { id: string }[] }>(c, 'GET', '/v1/alerts');
    expect(listed.json.alerts.map((a) => a.id)).toContain(id);
    const tested = await adminApi<{ results: { firing: boolean; volume: number }[] }>(
      c,
      'POST',
      `/v1/alerts/${id}/test`,
    );
    expect(tested.status).toBe(200);
    // Under 500 persons: nothing fires.
    expect(tested.json.results.every((r) => !r.firing)).toBe(true);
    const updated = await adminApi<{ alert: { change: number; webhook: { secret: string } } }>(
      c,
      'PUT',
      `/v1/alerts/${id}`,
      {
        ...body,
        change: 0.2,
        webhook: { url: body.webhook.url, secret: '****cret' },
      },
    );
    expect(updated.status).toBe(200);
    expect(updated.json.alert).toMatchObject({ change: 0.2, webhook: { secret: '****cret' } });
    expect((await adminApi(c, 'GET', `/v1/alerts/${id}/events`)).json).toEqual({ events: [] });

    const bad = await adminApi(c, 'POST', '/v1/alerts', { ...body, windowMinutes: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'CDP_ERR_ALERT_INVALID', field: 'windowMinutes' });
    const badMetric = await adminApi(c, 'GET', '/v1/metrics/uv?interval=7m');
    expect(badMetric.json).toMatchObject({ code: 'CDP_ERR_METRIC_INVALID', field: 'interval' });
    // A metric an alert watches cannot be deleted from under it.
    const mine = `signups_${randomUUID().slice(0, 8)}`;
    expect(
      (await adminApi(c, 'POST', '/v1/metrics', { name: mine, event: 'Signed Up' })).status,
    ).toBe(201);
    const watching = await adminApi<{ alert: { id: string } }>(c, 'POST', '/v1/alerts', {
      name: 'signups down',
      metric: mine,
      windowMinutes: 60,
      compare: 'previous',
      direction: 'down',
      change: 0.5,
    });
    expect(watching.status, watching.text).toBe(201);
    const refused = await adminApi(c, 'DELETE', `/v1/metrics/${mine}`);
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: 'CDP_ERR_METRIC_INVALID', field: 'name' });
    expect((await adminApi(c, 'DELETE', `/v1/alerts/${watching.json.alert.id}`)).status).toBe(204);
    expect((await adminApi(c, 'DELETE', `/v1/metrics/${mine}`)).status).toBe(204);
    const unauth = await fetch(`${c.apiUrl}/v1/alerts`);
    expect(unauth.status).toBe(401);
    expect((await adminApi(c, 'DELETE', `/v1/alerts/${id}`)).status).toBe(204);
    expect((await adminApi(c, 'GET', `/v1/alerts/${id}`)).status).toBe(404);
  });

  it('cdp metrics and cdp alerts (built CLI)', async () => {
    const listed = await cdp('metrics', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^name +builtin +description\n/);
    expect(listed.stdout).toContain('conversion_rate');
    const live = await cdp('metrics', 'live');
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout.split('\n')[0]).toMatch(
      /^t +uv +events +pageviews +conversions +conversion_rate +revenue/,
    );
    const series = await cdp('metrics', 'get', 'events', '--interval', '1h');
    expect(series.code, series.stderr).toBe(0);
    expect(series.stdout.split('\n')[0]).toMatch(/^t +value/);

    const file = dir.join('alert.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'uv floor',
        metric: 'uv',
        windowMinutes: 5,
        compare: 'threshold',
        threshold: 1,
        direction: 'down',
      }),
    );
    const created = await cdp('alerts', 'create', file);
    expect(created.code, created.stderr).toBe(0);
    const id = /^created (\S+) \(uv floor\)$/.exec(created.stdout.trim())?.[1];
    expect(id).toBeDefined();
    expect((await cdp('alerts', 'list')).stdout).toContain(id!);
    const tested = await cdp('alerts', 'test', id!);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout.split('\n')[0]).toMatch(/^key +value +reference +change +volume +firing/);
    expect((await cdp('alerts', 'delete', id!)).stdout.trim()).toBe(`deleted ${id}`);
    const missing = await cdp('alerts', 'get', id!);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404 CDP_ERR_ALERT_NOT_FOUND');
  });
});
