/**
 * Funnels and paths end to end on hand-made data with known answers: Segment
 * calls over /v1/batch to the all-in-one platform, then `POST /v1/funnels`,
 * `POST /v1/paths` and the `cdp funnel` / `cdp paths` CLI, as a user would.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/testkit';
import { sql, startTestPlatform, usePlatform } from './e2e-scenarios.js';

// The `cdp` binary (packages/cli, built by `npm test`), driven as a user would.
const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const run$ = promisify(execFile);
const BASE = Date.parse('2024-03-01T10:00:00Z');
const at = (s: number): string => new Date(BASE + s * 1000).toISOString();
const FROM = '2024-03-01';
const TO = '2024-03-02';

const home = (who: string, s: number, source?: string): Record<string, unknown> => ({
  type: 'page',
  anonymousId: who,
  name: 'Home',
  timestamp: at(s),
  properties: { url: 'https://shop.example/' },
  ...(source ? { context: { campaign: { source, medium: 'email', name: 'spring' } } } : {}),
});
const track = (
  who: string,
  event: string,
  s: number,
  properties = {},
): Record<string, unknown> => ({
  type: 'track',
  anonymousId: who,
  event,
  timestamp: at(s),
  properties,
});

// p1 goes all the way (60 s, then 540 s); p2 stops after Product Viewed (180 s);
// p3 orders without viewing; p4 never sees Home; p5 views too late (2 h).
const CALLS = [
  home('p1', 0, 'newsletter'),
  track('p1', 'Product Viewed', 60),
  track('p1', 'Order Completed', 600, { revenue: 100 }),
  home('p2', 0),
  track('p2', 'Product Viewed', 180),
  home('p3', 0),
  track('p3', 'Order Completed', 100, { revenue: 5 }),
  track('p4', 'Product Viewed', 0),
  home('p5', 0),
  track('p5', 'Product Viewed', 7200),
];

const c = usePlatform(() => startTestPlatform());

async function post<T>(path: string, body: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${c.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

interface Step {
  step: number;
  event: string;
  people: number;
  conversionFromPrevious: number;
  conversionFromFirst: number;
  medianSecondsFromPrevious: number | null;
}
const FUNNEL = {
  steps: [{ event: 'Home' }, { event: 'Product Viewed' }, { event: 'Order Completed' }],
  windowSeconds: 3600,
  from: FROM,
  to: TO,
};

describe('funnels and paths end to end', () => {
  it('ingests the hand-made events', async () => {
    const res = await fetch(`${c.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ batch: CALLS }),
    });
    expect(res.status).toBe(200);
    await waitFor(
      async () => {
        const [row] = await sql<{ n: string }>(
          c,
          "SELECT countIf(person_id != '') AS n FROM events_by_person",
        );
        return Number(row?.n) === CALLS.length;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });

  it('counts people per step in order within the window, with conversion and median times', async () => {
    const r = await post<{ steps: Step[] }>('/v1/funnels', FUNNEL);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.steps).toEqual([
      {
        step: 1,
        event: 'Home',
        people: 4,
        conversionFromPrevious: 1,
        conversionFromFirst: 1,
        medianSecondsFromPrevious: null,
      },
      {
        step: 2,
        event: 'Product Viewed',
        people: 2,
        conversionFromPrevious: 0.5,
        conversionFromFirst: 0.5,
        medianSecondsFromPrevious: 120,
      },
      {
        step: 3,
        event: 'Order Completed',
        people: 1,
        conversionFromPrevious: 0.5,
        conversionFromFirst: 0.25,
        medianSecondsFromPrevious: 540,
      },
    ]);
  });

  it('filters a step with where and breaks down by utm_source', async () => {
    const r = await post<{ steps: Step[] }>('/v1/funnels', {
      ...FUNNEL,
      steps: [
        { event: 'Home' },
        { event: 'Order Completed', where: { property: 'revenue', equals: 5 } },
      ],
    });
    expect(r.json.steps.map((s) => [s.people, s.medianSecondsFromPrevious])).toEqual([
      [4, null],
      [1, 100],
    ]);
    const b = await post<{ breakdown: { by: string; values: { value: string; steps: Step[] }[] } }>(
      '/v1/funnels',
      { ...FUNNEL, breakdown: 'utm_source' },
    );
    expect(b.json.breakdown.values.map((v) => [v.value, v.steps.map((s) => s.people)])).toEqual([
      ['', [3, 1, 0]],
      ['newsletter', [1, 1, 1]],
    ]);
  });

  it('refuses a bad funnel with the field named', async () => {
    const r = await post('/v1/funnels', {
      ...FUNNEL,
      steps: [{ event: 'Home' }, { event: 'X', where: { column: 'ip', equals: 'x' } }],
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      code: 'CDP_ERR_API_BAD_REQUEST',
      field: 'steps[1].where.column',
    });
  });

  it('lists the most common sequences as Sankey edges', async () => {
    const r = await post<{ edges: unknown[] }>('/v1/paths', {
      dateFrom: FROM,
      dateTo: TO,
      steps: 3,
      by: 'event',
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.edges).toEqual([
      { source: 'step1:Home', target: 'step2:Product Viewed', count: 3 },
      { source: 'step1:Home', target: 'step2:Order Completed', count: 1 },
      { source: 'step2:Product Viewed', target: 'step3:Order Completed', count: 1 },
    ]);
    const ending = await post<{ edges: unknown[] }>('/v1/paths', {
      dateFrom: FROM,
      dateTo: TO,
      steps: 2,
      end: 'Order Completed',
    });
    expect(ending.json.edges).toEqual([
      { source: 'step1:Home', target: 'step2:Order Completed', count: 1 },
      { source: 'step1:Product Viewed', target: 'step2:Order Completed', count: 1 },
    ]);
  });

  it('prints funnels and paths as tables from the CLI', async () => {
    const common = ['--url', c.url, '--token', c.admin, '--from', FROM, '--to', TO];
    const f = await run$(process.execPath, [
      BIN,
      'funnel',
      'Home',
      'Product Viewed',
      'Order Completed',
      '--window',
      '3600',
      ...common,
    ]);
    const lines = f.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^step\s+event\s+people\s+from previous %\s+from first %\s+median s$/);
    expect(lines[3]).toMatch(/^2\s+Product Viewed\s+2\.00\s+50\.00\s+50\.00\s+120\.00$/);
    const p = await run$(process.execPath, [BIN, 'paths', '--steps', '3', ...common]);
    expect(p.stdout).toMatch(/step1:Home\s+step2:Product Viewed\s+3\.00/);
  });
});
