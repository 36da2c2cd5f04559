/**
 * Tags end to end on the all-in-one platform: events sent with Segment's own
 * Node client go through ingest, OneID and the loader; a run on demand
 * (`POST /v1/tags/recompute`) computes the tags; the Person API, the tag
 * API and the `cdp tags` CLI show them as a user would read them. A tier
 * upgrade comes back as a `Tier Upgraded` event through ingest's own path.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Analytics } from '@segment/analytics-node';
import { describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '@cdp/testkit';
import { adminApi, sql, startTestPlatform, usePlatform } from './e2e-scenarios.js';

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const run$ = promisify(execFile);

// Scheduled runs are far apart: the test runs the engine on demand.
const c = usePlatform(() =>
  startTestPlatform({ CDP_TAGS_INTERVAL: '3600', CDP_TAGS_LOAD_MARGIN_MS: '0' }),
);

const api = <T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): ReturnType<typeof adminApi<T>> => adminApi<T>(c, method, path, body);

async function sendWithSegment(calls: (a: Analytics) => void): Promise<void> {
  const analytics = new Analytics({
    writeKey: c.writeKey,
    host: c.url,
    flushAt: 50,
    maxRetries: 2,
  });
  calls(analytics);
  await analytics.closeAndFlush({ timeout: 10_000 });
}

async function personOf(userId: string): Promise<{ oneId: string; tags: Record<string, unknown> }> {
  const r = await api<{ oneId: string }>('GET', `/v1/persons/lookup?type=user_id&value=${userId}`);
  expect(r.status).toBe(200);
  const p = await api<{ oneId: string; tags: Record<string, unknown> }>(
    'GET',
    `/v1/persons/${r.json.oneId}`,
  );
  expect(p.status).toBe(200);
  return p.json;
}

const recompute = async (): Promise<Record<string, unknown>> => {
  const r = await api<{ run: Record<string, unknown> }>('POST', '/v1/tags/recompute', {});
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json.run;
};

describe('tags end to end (all-in-one, Segment Node client)', () => {
  it('a purchase becomes tags on the person, and a tier upgrade an event through ingest', async () => {
    const user = `u-${Math.random().toString(36).slice(2, 8)}`;
    await sendWithSegment((a) => {
      a.identify({
        userId: user,
        anonymousId: `anon-${user}`,
        traits: { email: `${user}@example.com` },
      });
      a.page({ anonymousId: `anon-${user}`, name: 'Home' });
      a.track({
        userId: user,
        event: 'Order Completed',
        properties: { revenue: 600, category: 'shoes', coupon: 'SAVE10' },
      });
    });
    await waitFor(
      async () => {
        const rows = await sql<{ n: string }>(
          c,
          "SELECT count() AS n FROM events_by_person WHERE user_id = {u:String} AND event = 'Order Completed'",
          { u: user },
        );
        return Number(rows[0]?.n) === 1;
      },
      { what: 'the order to be queryable' },
    );
    const run = await recompute();
    expect(run['changes']).toBeGreaterThan(0);

    const person = await personOf(user);
    expect(person.tags).toMatchObject({
      frequency: 1,
      monetary: 600,
      recency_days: 0,
      lifecycle: 'new',
      churn_risk: 'low',
      member_tier: 'Silver',
      price_sensitivity: 'high',
      top_categories: ['shoes'],
    });

    // A second order crosses Gold: upgraded at once, and the change comes
    // back as a track event on the person, through ingest's own path.
    await sendWithSegment((a) => {
      a.track({ userId: user, event: 'Order Completed', properties: { revenue: 1500 } });
    });
    await waitFor(async () => {
      const rows = await sql<{ n: string }>(
        c,
        "SELECT count() AS n FROM events_by_person WHERE user_id = {u:String} AND event = 'Order Completed'",
        { u: user },
      );
      return Number(rows[0]?.n) === 2;
    });
    const second = await recompute();
    expect(second['kind']).toBe('incremental');
    expect(second['tierChanges']).toBe(1);
    expect((await personOf(user)).tags).toMatchObject({
      frequency: 2,
      monetary: 2100,
      member_tier: 'Gold',
    });
    const upgraded = await waitFor(async () => {
      const rows = await sql<{ person_id: string; source_id: string; properties: string }>(
        c,
        "SELECT person_id, source_id, properties FROM events_by_person WHERE event = 'Tier Upgraded' AND user_id = {u:String}",
        { u: user },
      );
      expect(rows).toHaveLength(1);
      return rows[0];
    });
    expect(upgraded?.person_id).toBe(person.oneId);
    expect(upgraded?.source_id).toBe('cdp-derived');
    expect(JSON.parse(upgraded?.properties ?? '{}')).toMatchObject({ from: 'Silver', to: 'Gold' });
    // The derived event is not the person's own activity: tags are unchanged by it.
    const third = await recompute();
    expect((await personOf(user)).tags).toMatchObject({ frequency: 2, member_tier: 'Gold' });
    expect(third['tierChanges']).toBe(0);

    const dist = await api<{ people: number; values: { value: unknown; count: number }[] }>(
      'GET',
      '/v1/tags/member_tier/distribution',
    );
    expect(dist.status).toBe(200);
    expect(dist.json.values).toContainEqual({ value: 'Gold', count: 1 });
  });

  it('definitions: built-ins listed, a bad one refused naming the field, a new one computed', async () => {
    const list = await api<{ tags: { name: string; builtin: boolean }[] }>('GET', '/v1/tags');
    expect(list.status).toBe(200);
    expect(list.json.tags.filter((t) => t.builtin).map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'rfm',
        'lifecycle',
        'churn_risk',
        'member_tier',
        'spending_power',
        'price_sensitivity',
        'top_categories',
        'preferred_channel',
      ]),
    );
    const rfm = await api<{ tag: { name: string; tags: { name: string }[] } }>(
      'GET',
      '/v1/tags/rfm_group',
    );
    expect(rfm.json.tag.name).toBe('rfm');

    const bad = await api<{ code: string; field: string }>('POST', '/v1/tags', {
      name: 'big_orders',
      type: 'computed',
      computed: {
        fn: 'count',
        event: 'Order Completed',
        where: [{ property: 'revenue', op: 'gt', value: 'x' }],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      code: 'CDP_ERR_TAG_INVALID',
      field: 'computed.where[0].value',
    });
    const badFn = await api<{ code: string; field: string }>('POST', '/v1/tags', {
      name: 'big_orders',
      type: 'computed',
      computed: { fn: 'median', property: 'revenue' },
    });
    expect(badFn.status).toBe(400);
    expect(badFn.json.field).toBe('computed.fn');

    const user = `u-${Math.random().toString(36).slice(2, 8)}`;
    const dir = await tempDir('cdp-tags-cli');
    try {
      const file = dir.join('big-orders.json');
      await writeFile(
        file,
        JSON.stringify([
          {
            name: 'big_orders',
            type: 'computed',
            computed: {
              fn: 'count',
              event: 'Order Completed',
              where: [{ property: 'revenue', op: 'gte', value: 100 }],
              window: { days: 30 },
            },
          },
          {
            name: 'buyer_kind',
            type: 'rule',
            rule: {
              rules: [
                {
                  when: { tag: { name: 'big_orders', op: 'gte', value: 2 } },
                  value: 'big spender',
                },
              ],
              default: 'regular',
            },
          },
        ]),
      );
      const env = { ...process.env, CDP_URL: c.url, CDP_ADMIN_TOKEN: c.admin };
      const applied = await run$(process.execPath, [BIN, 'tags', 'apply', file], { env });
      expect(applied.stdout).toContain('created big_orders');
      expect(applied.stdout).toContain('created buyer_kind');
      const listed = await run$(process.execPath, [BIN, 'tags', 'list'], { env });
      expect(listed.stdout).toContain('buyer_kind');

      await sendWithSegment((a) => {
        for (const revenue of [150, 120, 20])
          a.track({ userId: user, event: 'Order Completed', properties: { revenue } });
      });
      await waitFor(async () => {
        const rows = await sql<{ n: string }>(
          c,
          'SELECT count() AS n FROM events_by_person WHERE user_id = {u:String}',
          { u: user },
        );
        return Number(rows[0]?.n) === 3;
      });
      const r = await run$(process.execPath, [BIN, 'tags', 'recompute'], { env });
      expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'full' });
      expect((await personOf(user)).tags).toMatchObject({
        big_orders: 2,
        buyer_kind: 'big spender',
      });
      const del = await run$(process.execPath, [BIN, 'tags', 'delete', 'buyer_kind'], { env });
      expect(del.stdout).toContain('deleted buyer_kind');
      await recompute();
      expect((await personOf(user)).tags).not.toHaveProperty('buyer_kind');
    } finally {
      await dir.remove();
    }
  });
});
