/**
 * The warehouse under heavy ad-hoc queries, through the all-in-one runner's
 * HTTP API (embedded bus, chDB): no answer, however large, ends the process;
 * a query over a limit is a 4xx naming it, never a retryable 503; while
 * long queries run, events still become queryable and `/readyz` answers at
 * once; and ad-hoc queries past the cap are refused with a 429.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/testkit';
import { startTestPlatform, usePlatform, type Ctx } from './e2e-scenarios.js';

// `n` sleeps of 3 s, one inside the other: they run one after the other, on
// any number of cores (ClickHouse caps one sleep at 3 s per block).
function sleepsSql(n: number): string {
  let sql = 'SELECT sleep(3) AS s0';
  for (let i = 1; i < n; i++) sql = `SELECT sleep(3) + s${i - 1} AS s${i} FROM (${sql})`;
  return sql;
}

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
  readonly headers: Headers;
  readonly ms: number;
}

async function call(c: Ctx, path: string, init: RequestInit = {}): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${c.url}${path}`, init);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers, ms: Date.now() - started };
}

const sql = (c: Ctx, query: string, params: Record<string, unknown> = {}): Promise<Answer> =>
  call(c, '/v1/sql', {
    method: 'POST',
    headers: { authorization: `Bearer ${c.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, params }),
  });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the warehouse under heavy queries (all-in-one, chDB)', () => {
  const c = usePlatform(() =>
    startTestPlatform({
      // 8 s: a query of three 3 s sleeps goes over it; one of two does not.
      CDP_SQL_MAX_EXECUTION_TIME: '8',
      // 256 MiB instead of 1 GiB: the 300,000,000-element array reaches it in
      // well under a second, so a loaded machine does not hit the 8 s first.
      CDP_SQL_MAX_MEMORY_USAGE: String(256 * 1024 * 1024),
      CDP_SQL_QUEUE_TIMEOUT_MS: '300',
    }),
  );

  it("answers the issue's 300,000,000-element array with a 422 naming the limit, and keeps running", async () => {
    const huge = await sql(c, 'SELECT groupArray(number) FROM numbers(300000000)');
    expect(huge.status).toBe(422);
    expect(huge.json).toMatchObject({ code: 'CDP_ERR_SQL_LIMIT', field: 'max_memory_usage' });
    expect(String(huge.json['message'])).toContain('max_memory_usage');
    expect(huge.headers.get('retry-after')).toBeNull();
    // Still up: ready, and answering queries.
    expect((await call(c, '/readyz')).status).toBe(200);
    expect((await sql(c, 'SELECT 1 AS one')).json).toEqual({
      rows: [{ one: 1 }],
      truncated: false,
    });
  }, 60_000);

  it('answers a query stopped by its time limit with a 422 naming it, not a 503 to retry', async () => {
    const slow = await sql(c, sleepsSql(3));
    expect(slow.status).toBe(422);
    expect(slow.json).toMatchObject({ code: 'CDP_ERR_SQL_LIMIT', field: 'max_execution_time' });
    expect(slow.headers.get('retry-after')).toBeNull();
    expect(slow.ms).toBeLessThan(12_000);
  }, 30_000);

  it('while a long query runs, an event becomes queryable and /readyz answers at once', async () => {
    const long = sql(c, `${sleepsSql(2)} WHERE {run:String} != ''`, { run: 'long' });
    await sleep(300);
    const messageId = `heavy-${Date.now()}`;
    const sent = Date.now();
    const ack = await call(c, '/v1/track', {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ messageId, anonymousId: 'heavy-probe', event: 'Probe' }),
    });
    expect(ack.status).toBe(200);
    await waitFor(
      async () => {
        const r = await sql(
          c,
          'SELECT count() AS c FROM events WHERE anonymous_id = {a:String} AND message_id = {m:String}',
          { a: 'heavy-probe', m: messageId },
        );
        return (r.json as { rows?: { c: number }[] }).rows?.[0]?.c === 1;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the probe event in events' },
    );
    const queryable = Date.now() - sent;
    const ready = await call(c, '/readyz');
    const done = await long;
    expect(done.status).toBe(200);
    expect(done.ms, 'the long query, ms').toBeGreaterThan(5_000);
    expect(queryable, 'event to queryable, ms').toBeLessThan(2_500);
    expect(ready.status).toBe(200);
    expect(ready.ms, '/readyz, ms').toBeLessThan(500);
  }, 30_000);

  it('refuses an ad-hoc query past the cap with a 429 naming the code, while /readyz and reads still answer', async () => {
    const longs = [sql(c, sleepsSql(2)), sql(c, sleepsSql(2))];
    await sleep(300);
    const third = await sql(c, 'SELECT 1');
    expect(third.status).toBe(429);
    expect(third.json).toMatchObject({ code: 'CDP_ERR_SQL_BUSY' });
    expect(third.headers.get('retry-after')).toBe('1');
    expect(third.ms, 'the refusal, ms').toBeLessThan(1_500);
    const ready = await call(c, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.ms, '/readyz, ms').toBeLessThan(500);
    // A read of the API's own session (not the ad-hoc lane) answers too.
    const lookup = await call(c, '/v1/persons/lookup?type=user_id&value=nobody', {
      headers: { authorization: `Bearer ${c.admin}` },
    });
    expect(lookup.status).toBe(404);
    expect(lookup.ms, 'a person lookup, ms').toBeLessThan(1_000);
    for (const r of await Promise.all(longs)) expect(r.status).toBe(200);
  }, 30_000);
});
