/**
 * The recent-events API on the all-in-one platform (real chDB): events sent
 * through ingest come back newest first and filtered by person, type and
 * event; a refused event is in the dead letters with its code, field and
 * reason; the catalogue lists event names with their property names; bad
 * parameters are 400s naming the field; the analytics token may read.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/testkit';
import { adminApi, sendBatch, startTestPlatform, usePlatform } from './e2e-scenarios.js';

const ANALYTICS = 'analytics-token-for-events-test';
const c = usePlatform(() =>
  startTestPlatform({ CDP_LOADER_FLUSH_MS: '200', CDP_ANALYTICS_TOKEN: ANALYTICS }),
);

type Ev = {
  messageId: string;
  type: string;
  event: string;
  userId: string;
  oneId: string;
  properties: Record<string, unknown>;
  receivedAt: string;
};
type Dl = {
  id: string;
  code: string;
  field: string;
  reason: string;
  sourceId: string;
  payload: string;
};

describe('recent events, dead letters and the event catalogue', () => {
  it('answers the latest events of a person, newest first, with filters', async () => {
    const run = randomUUID().slice(0, 8);
    const user = `u-${run}`;
    const base = Date.now() - 60_000;
    const batch = Array.from({ length: 5 }, (_, i) => ({
      type: 'track',
      messageId: `${run}-${i}`,
      userId: user,
      event: i % 2 === 0 ? `Viewed ${run}` : `Bought ${run}`,
      properties: { sku: `s${i}`, [`p_${run}`]: i },
      timestamp: new Date(base + i * 1000).toISOString(),
    }));
    for (const e of batch) await sendBatch(c, [e]);
    await sendBatch(c, [
      { type: 'page', messageId: `${run}-page`, userId: user, name: `Home ${run}` },
    ]);
    const all = await waitFor(
      async () => {
        const r = await adminApi<{ events: Ev[] }>(c, 'GET', `/v1/events?person=${user}`);
        expect(r.status, r.text).toBe(200);
        expect(r.json.events).toHaveLength(6);
        return r.json.events;
      },
      { timeoutMs: 15_000 },
    );
    // Sent one after the other: received (and listed) newest first.
    expect(all.map((e) => e.messageId)).toEqual([
      `${run}-page`,
      ...batch.map((e) => e.messageId).reverse(),
    ]);
    expect(all[1]).toMatchObject({ type: 'track', event: `Viewed ${run}`, userId: user });
    expect(all[1]?.properties).toEqual({ sku: 's4', [`p_${run}`]: 4 });
    expect(all[0]).toMatchObject({ type: 'page', event: `Home ${run}` });

    const bought = await adminApi<{ events: Ev[] }>(
      c,
      'GET',
      `/v1/events?person=${user}&event=${encodeURIComponent(`Bought ${run}`)}&limit=1`,
    );
    expect(bought.json.events.map((e) => e.messageId)).toEqual([`${run}-3`]);
    const pages = await adminApi<{ events: Ev[] }>(c, 'GET', `/v1/events?person=${user}&type=page`);
    expect(pages.json.events.map((e) => e.messageId)).toEqual([`${run}-page`]);
    // By the person's OneID too.
    const byOneId = await adminApi<{ events: Ev[] }>(
      c,
      'GET',
      `/v1/events?person=${all[0]!.oneId}`,
    );
    expect(byOneId.json.events).toHaveLength(6);

    const catalog = await adminApi<{
      events: { event: string; type: string; count: number; properties: string[] }[];
    }>(c, 'GET', '/v1/events/catalog');
    expect(catalog.status).toBe(200);
    expect(catalog.json.events).toContainEqual({
      event: `Viewed ${run}`,
      type: 'track',
      count: 3,
      properties: [`p_${run}`, 'sku'],
    });
    expect(catalog.json.events).toContainEqual({
      event: `Home ${run}`,
      type: 'page',
      count: 1,
      properties: [],
    });
  });

  it('lists a refused event in the dead letters with its code, field and reason', async () => {
    const run = randomUUID().slice(0, 8);
    const res = await fetch(`${c.url}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ userId: `u-${run}`, properties: { run } }),
    });
    expect(res.status).toBe(400);
    const refused = (await res.json()) as { code: string; field: string };
    const dl = await waitFor(
      async () => {
        const r = await adminApi<{ deadLetters: Dl[] }>(
          c,
          'GET',
          `/v1/dead-letters?code=${refused.code}`,
        );
        const mine = r.json.deadLetters.filter((d) => d.payload.includes(run));
        expect(mine).toHaveLength(1);
        return mine[0]!;
      },
      { timeoutMs: 15_000 },
    );
    expect(dl).toMatchObject({ code: refused.code, field: refused.field });
    expect(dl.reason).not.toBe('');
    const other = await adminApi<{ deadLetters: Dl[] }>(
      c,
      'GET',
      '/v1/dead-letters?code=CDP_ERR_NOPE',
    );
    expect(other.json.deadLetters).toEqual([]);
  });

  it('refuses bad parameters naming the field, and lets the analytics token read', async () => {
    for (const [path, field] of [
      ['/v1/events?limit=0', 'limit'],
      ['/v1/events?since=yesterday', 'since'],
      [`/v1/events?since=${new Date(Date.now() - 40 * 86_400_000).toISOString()}`, 'since'],
      [`/v1/events?person=${'x'.repeat(201)}`, 'person'],
      ['/v1/dead-letters?limit=501', 'limit'],
      ['/v1/events/catalog?days=400', 'days'],
    ] as const) {
      const r = await adminApi<{ code: string; field: string }>(c, 'GET', path);
      expect(r.status, path).toBe(400);
      expect(r.json, path).toMatchObject({ code: 'CDP_ERR_API_BAD_REQUEST', field });
    }
    const asAnalyst = await fetch(`${c.url}/v1/events?limit=1`, {
      headers: { authorization: `Bearer ${ANALYTICS}` },
    });
    expect(asAnalyst.status).toBe(200);
    const anonymous = await fetch(`${c.url}/v1/dead-letters`);
    expect(anonymous.status).toBe(401);
  });
});
