/**
 * Snowplow's fractribution integration test, end to end through the real
 * ingest: the 98 raw Snowplow events of its fixture are sent as Segment
 * calls over /v1/batch to the all-in-one platform (embedded bus, chDB,
 * OneID), then `GET /v1/attribution` with Snowplow's channel rules, its
 * conversion window (2022-06-03 .. 2022-08-01), 30-day lookback and the
 * exposure transform must give its answer key: per-channel simplified
 * Shapley and last-touch credit (to 1e-6), its path summary, and its paths
 * to conversion and non-conversion (as counts per raw path).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/testkit';
import { sql, startTestPlatform, usePlatform } from './e2e-scenarios.js';

// Snowplow's fixture (Apache-2.0), kept in the repo: see test/fixtures/snowplow-fractribution/README.md.
const DIR = new URL('../../../test/fixtures/snowplow-fractribution', import.meta.url).pathname;

/** RFC 4180 CSV (quoted fields with doubled quotes) to objects keyed by the header. */
function readCsv(name: string): Record<string, string>[] {
  const text = readFileSync(`${DIR}/${name}`, 'utf8');
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries((header ?? []).map((h, i) => [h, r[i] ?? ''])));
}

type Call = Record<string, unknown>;

/**
 * One Snowplow event to Segment calls: a page view becomes a `page` call
 * (campaign from `mkt_*`); a row with `tr_total > 0` (also) becomes a
 * `track('Order Completed', {revenue})` at the same time: in the fixture five
 * transactions are recorded on page views and one on a `checkout` event.
 */
function toSegmentCalls(e: Record<string, string>): Call[] {
  const ids = {
    anonymousId: e['domain_userid'],
    ...(e['user_id'] ? { userId: e['user_id'] } : {}),
  };
  const timestamp = e['derived_tstamp'] || e['collector_tstamp'];
  const calls: Call[] = [];
  if (e['event_name'] === 'page_view') {
    const url = `${e['page_urlscheme'] || 'https'}://${e['page_urlhost']}${e['page_urlpath'] || '/'}`;
    const referrer = e['page_referrer'] ?? '';
    const campaign = {
      ...(e['mkt_source'] ? { source: e['mkt_source'] } : {}),
      ...(e['mkt_medium'] ? { medium: e['mkt_medium'] } : {}),
      ...(e['mkt_campaign'] ? { name: e['mkt_campaign'] } : {}),
      ...(e['mkt_term'] ? { term: e['mkt_term'] } : {}),
      ...(e['mkt_content'] ? { content: e['mkt_content'] } : {}),
    };
    calls.push({
      type: 'page',
      ...ids,
      messageId: `pv-${e['event_id']}`,
      timestamp,
      properties: { url, ...(referrer ? { referrer } : {}) },
      context: {
        page: { url, ...(referrer ? { referrer } : {}) },
        ...(Object.keys(campaign).length > 0 ? { campaign } : {}),
      },
    });
  }
  const total = Number(e['tr_total']);
  if (e['tr_total'] !== '' && total > 0)
    calls.push({
      type: 'track',
      ...ids,
      messageId: `tr-${e['event_id']}`,
      event: 'Order Completed',
      timestamp,
      properties: { revenue: total, order_id: e['tr_orderid'] || e['event_id'] },
    });
  return calls;
}

interface Credit {
  conversions: number;
  value: number;
}
interface Report {
  totals: { conversions: number; value: number; nulls: number; conversionsWithoutTouches: number };
  channels: { channel: string; credits: Record<string, Credit> }[];
  topPaths: { label: string; conversions: number; value: number; nulls: number }[];
  pathSummary: { label: string; conversions: number; value: number; nulls: number }[];
}

const c = usePlatform(() => startTestPlatform());

const QUERY =
  'from=2022-06-03&to=2022-08-01&lookbackDays=30&transform=exposure&classifier=snowplow' +
  '&models=shapley_simplified,last_touch&limit=1000';

async function attribution(query: string): Promise<{ status: number; json: Report }> {
  const res = await fetch(`${c.url}/v1/attribution?${query}`, {
    headers: { authorization: `Bearer ${c.admin}` },
  });
  return { status: res.status, json: (await res.json()) as Report };
}

describe('attribution over Snowplow fractribution fixture (real ingest)', () => {
  const events = readCsv('snowplow_fractribution_events.csv');
  const calls = events.flatMap(toSegmentCalls);
  let report: Report;

  it('ingests the 98 events as 97 page views and 6 orders', async () => {
    expect(events).toHaveLength(98);
    expect(calls.filter((x) => x['type'] === 'page')).toHaveLength(97);
    expect(calls.filter((x) => x['type'] === 'track')).toHaveLength(6);
    const res = await fetch(`${c.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ batch: calls }),
    });
    expect(res.status).toBe(200);
    await waitFor(
      async () => {
        const [row] = await sql<{ n: string; p: string }>(
          c,
          "SELECT count() AS n, countIf(person_id != '') AS p FROM events_by_person",
        );
        return Number(row?.n) === calls.length && Number(row?.p) === calls.length;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const r = await attribution(QUERY);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    report = r.json;
  });

  it('matches the expected simplified Shapley and last-touch credit per channel to 1e-6', () => {
    const expected = readCsv('snowplow_fractribution_channel_attribution_expected.csv');
    expect(expected).toHaveLength(12);
    for (const e of expected) {
      const model = e['ATTRIBUTION_TYPE'] === 'shapley' ? 'shapley_simplified' : 'last_touch';
      const got = report.channels.find((x) => x.channel === e['CHANNEL'])?.credits[model];
      expect(got, `${e['CHANNEL']} ${model}`).toBeDefined();
      expect(got?.conversions ?? NaN).toBeCloseTo(Number(e['CONVERSIONS']), 6);
      expect(got?.value ?? NaN).toBeCloseTo(Number(e['REVENUE']), 6);
    }
    expect(report.channels.map((x) => x.channel).sort()).toEqual(
      [...new Set(expected.map((e) => e['CHANNEL'] as string))].sort(),
    );
    expect(report.totals.conversions).toBe(6);
    expect(report.totals.value).toBeCloseTo(500.92, 9);
    expect(report.totals.nulls).toBe(61);
    expect(report.totals.conversionsWithoutTouches).toBe(0);
  });

  it('matches the expected path summary (exposure-transformed paths)', () => {
    const expected = readCsv('snowplow_fractribution_path_summary_expected.csv').map((e) => ({
      label: e['transformed_path'] ?? '',
      conversions: Number(e['conversions']),
      nulls: Number(e['non_conversions']),
      value: Number(e['revenue'] || 0),
    }));
    const got = report.pathSummary.map(({ label, conversions, nulls, value }) => ({
      label,
      conversions,
      nulls,
      value: Math.round(value * 1e6) / 1e6,
    }));
    const byLabel = (a: { label: string }, b: { label: string }): number =>
      a.label.localeCompare(b.label);
    expect(got.sort(byLabel)).toEqual(expected.sort(byLabel));
  });

  it('matches the expected paths to conversion and to non-conversion, per raw path', () => {
    const conv = new Map<string, { n: number; value: number }>();
    for (const e of readCsv('snowplow_fractribution_paths_to_conversion_expected.csv')) {
      const k = e['path'] as string;
      const cur = conv.get(k) ?? { n: 0, value: 0 };
      conv.set(k, { n: cur.n + 1, value: cur.value + Number(e['revenue']) });
    }
    const nonConv = new Map<string, number>();
    for (const e of readCsv('snowplow_fractribution_paths_to_non_conversion_expected.csv'))
      nonConv.set(e['path'] as string, (nonConv.get(e['path'] as string) ?? 0) + 1);
    const expected = [...new Set([...conv.keys(), ...nonConv.keys()])].map((label) => ({
      label,
      conversions: conv.get(label)?.n ?? 0,
      value: conv.get(label)?.value ?? 0,
      nulls: nonConv.get(label) ?? 0,
    }));
    const got = report.topPaths.map(({ label, conversions, value, nulls }) => ({
      label,
      conversions,
      value: Math.round(value * 1e6) / 1e6,
      nulls,
    }));
    const byLabel = (a: { label: string }, b: { label: string }): number =>
      a.label.localeCompare(b.label);
    expect(got.sort(byLabel)).toEqual(expected.sort(byLabel));
  });

  it('refuses bad parameters with the field named', async () => {
    for (const [query, field] of [
      ['from=2022-13-01', 'from'],
      ['lookbackDays=0', 'lookbackDays'],
      ['models=last_touch,nope', 'models'],
      ['classifier=x', 'classifier'],
      ['from=2022-08-01&to=2022-06-01', 'to'],
    ] as const) {
      const r = await attribution(query);
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ code: 'CDP_ERR_API_BAD_REQUEST', field });
    }
  });
});
