import { isCdpError } from '@cdp/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParameters } from '@cdp/testkit';
import { buildAttributionSql, parseAttributionQuery } from './attribution-query.js';
import { buildAttributionReport, firstK, toPathRows } from './attribution-report.js';
import { channelIndexSql, channelNames, channelNamesSql } from './channel-rules.js';
import { compileWhere } from './filters.js';
import { buildFunnelReport, parseFunnelRequest } from './funnels.js';
import { InputIssues, parseIsoTime } from './input.js';
import { buildPathsReport, parsePathsRequest } from './paths.js';

const NOW = Date.parse('2024-03-10T12:00:00Z');

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isCdpError(e) && e.code === 'CDP_ERR_API_BAD_REQUEST') return e.field;
    throw e;
  }
  return undefined;
}

describe('parseIsoTime', () => {
  it.each([
    ['2022-06-03', false, Date.parse('2022-06-03T00:00:00Z')],
    ['2022-08-01', true, Date.parse('2022-08-02T00:00:00Z')],
    ['2022-06-03T10:00:00Z', true, Date.parse('2022-06-03T10:00:00Z')],
    ['2022-06-03T10:00:00.5+02:00', false, Date.parse('2022-06-03T08:00:00.5Z')],
  ])('%s (end of day %s)', (v, end, ms) => {
    const issues = new InputIssues();
    expect(parseIsoTime(v, 'f', issues, end)).toBe(ms);
    expect(issues.list).toEqual([]);
  });
  it.each(['2022-02-30', '2022-6-3', 'yesterday', '2022-06-03T10:00:00', 20220603])(
    'refuses %s',
    (v) => {
      const issues = new InputIssues();
      expect(parseIsoTime(v, 'from', issues)).toBeUndefined();
      expect(issues.list[0]?.field).toBe('from');
    },
  );
});

describe('parseAttributionQuery', () => {
  it('applies the defaults', () => {
    const q = parseAttributionQuery({}, NOW);
    expect(q).toMatchObject({
      conversion: 'Order Completed',
      valueProperty: 'revenue',
      toMs: NOW,
      fromMs: NOW - 30 * 86_400_000,
      lookbackDays: 30,
      classifier: 'ga4',
      transform: undefined,
      limit: 20,
    });
    expect(q.models).toHaveLength(9);
  });
  it.each([
    [{ from: 'x' }, 'from'],
    [{ to: '2022-02-31' }, 'to'],
    [{ from: '2022-08-01', to: '2022-06-01' }, 'to'],
    [{ lookbackDays: '0' }, 'lookbackDays'],
    [{ lookbackDays: '366' }, 'lookbackDays'],
    [{ lookbackDays: '1.5' }, 'lookbackDays'],
    [{ models: 'last_touch,markov_chain' }, 'models'],
    [{ models: ',' }, 'models'],
    [{ transform: 'collapse' }, 'transform'],
    [{ classifier: 'mine' }, 'classifier'],
    [{ conversion: '' }, 'conversion'],
    [{ limit: '0' }, 'limit'],
    [{ nope: '1' }, 'nope'],
  ])('refuses %j naming %s', (query, field) => {
    expect(fieldOf(() => parseAttributionQuery(query, NOW))).toBe(field);
  });
  it('reports every problem at once', () => {
    try {
      parseAttributionQuery({ from: 'x', lookbackDays: '0', models: 'y' }, NOW);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/from: .*lookbackDays: .*models: /);
    }
  });
});

describe('buildAttributionSql', () => {
  it('passes user input only as parameters', () => {
    const evil = "x'); DROP TABLE events; --";
    const q = parseAttributionQuery(
      {
        conversion: evil,
        valueProperty: evil,
        from: '2022-06-03',
        to: '2022-08-01',
        lookbackDays: '30',
      },
      NOW,
    );
    const { sql, params } = buildAttributionSql(q);
    expect(sql).not.toContain('DROP');
    expect(params).toMatchObject({
      conversion: evil,
      valueProperty: evil,
      fromMs: Date.parse('2022-06-03T00:00:00Z'),
      hiMs: Date.parse('2022-08-02T00:00:00Z'),
      loMs: Date.parse('2022-05-04T00:00:00Z'),
      lookbackMs: 30 * 86_400_000,
      sessionGapMs: 1_800_000,
    });
    expect(sql).toContain('arraySort(groupArrayIf(');
    expect(sql).toContain('person_overrides');
  });
  it('uses the chosen classifier', () => {
    const q = parseAttributionQuery({ classifier: 'snowplow' }, NOW);
    expect(buildAttributionSql(q).sql).toContain(channelIndexSql('snowplow'));
    expect(buildAttributionSql(q).sql).toContain(channelNamesSql('snowplow'));
    expect(channelNames('snowplow')).toContain('Paid_Search_Other');
    expect(channelNames('snowplow')).toHaveLength(16);
    expect(channelNames('ga4')).toContain('Unassigned');
  });
});

describe('firstK', () => {
  it('is the first k of a full sort', () => {
    const cmp = (a: [number, string], b: [number, string]): number =>
      b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.string()), {
          selector: (x) => x[1],
        }),
        fc.integer({ min: 0, max: 30 }),
        (items, k) => {
          expect(firstK(items, k, cmp)).toEqual([...items].sort(cmp).slice(0, k));
        },
      ),
      fcParameters(),
    );
  });
});

describe('attribution report', () => {
  const q = parseAttributionQuery({ models: 'last_touch,first_touch', limit: '2' }, NOW);
  const raw = [
    {
      path: ['Email', 'Direct'],
      conversions: '2',
      value: 30,
      nulls: '1',
      msBefore: [86_400_000, 0],
    },
    { path: ['Direct'], conversions: 0, value: 0, nulls: 5, msBefore: [] },
    { path: ['Email'], conversions: 1, value: 10, nulls: 0, msBefore: ['5'] },
    { path: [], conversions: 3, value: 7, nulls: 0, msBefore: [] },
  ];
  it('splits off conversions without touches and keeps per-touch times', () => {
    const { rows, conversionsWithoutTouches, valueWithoutTouches } = toPathRows(raw);
    expect(conversionsWithoutTouches).toBe(3);
    expect(valueWithoutTouches).toBe(7);
    expect(rows[0]).toEqual({
      path: [
        { channel: 'Email', msBeforeConversion: 86_400_000 },
        { channel: 'Direct', msBeforeConversion: 0 },
      ],
      conversions: 2,
      value: 30,
      nulls: 1,
    });
    expect(rows[1]?.path).toEqual(['Direct']);
  });
  it('credits per channel and model, and lists top paths by journeys', () => {
    const r = buildAttributionReport(q, raw);
    expect(r.totals).toMatchObject({ conversions: 3, value: 40, nulls: 6, paths: 3 });
    expect(r.channels).toEqual([
      {
        channel: 'Direct',
        credits: {
          last_touch: { conversions: 2, value: 30 },
          first_touch: { conversions: 0, value: 0 },
        },
      },
      {
        channel: 'Email',
        credits: {
          last_touch: { conversions: 1, value: 10 },
          first_touch: { conversions: 3, value: 40 },
        },
      },
    ]);
    expect(r.topPaths.map((p) => p.label)).toEqual(['Direct', 'Email > Direct']);
  });
  it('answers an empty range with zero totals', () => {
    const r = buildAttributionReport(q, []);
    expect(r.totals).toMatchObject({ conversions: 0, nulls: 0, paths: 0 });
    expect(r.channels).toEqual([]);
  });
});

describe('compileWhere', () => {
  it.each([
    [
      { property: 'plan', equals: 'pro' },
      'JSONExtractString(properties, {w_0_prop:String}) = {w_0_v:String}',
      { w_0_prop: 'plan', w_0_v: 'pro' },
    ],
    [
      { property: 'n', notEquals: 3 },
      'JSONExtractFloat(properties, {w_0_prop:String}) != {w_0_v:Float64}',
      { w_0_prop: 'n', w_0_v: 3 },
    ],
    [
      { property: 'b', equals: true },
      'JSONExtractBool(properties, {w_0_prop:String}) = {w_0_v:UInt8}',
      { w_0_prop: 'b', w_0_v: 1 },
    ],
    [
      { column: 'channel', in: ['Email', "x'"] },
      'has({w_0_v:Array(String)}, toString(channel))',
      { w_0_v: ['Email', "x'"] },
    ],
  ])('%j', (where, sql, params) => {
    const p = {};
    const issues = new InputIssues();
    expect(compileWhere(where, 'where', 'w', p, issues)).toBe(`(${sql})`);
    expect(issues.list).toEqual([]);
    expect(p).toEqual(params);
  });
  it.each([
    [{ column: 'ip', equals: 'x' }, 'where.column'],
    [{ property: 'a', column: 'channel', equals: 'x' }, 'where'],
    [{ property: 'a' }, 'where'],
    [{ property: 'a', equals: {} }, 'where.equals'],
    [{ column: 'channel', equals: 1 }, 'where.equals'],
    [{ property: 'a', in: [] }, 'where.in'],
    [{ property: 'a', equals: 'x', like: 'y' }, 'where.like'],
    ['x', 'where'],
  ])('refuses %j naming %s', (where, field) => {
    const issues = new InputIssues();
    compileWhere(where, 'where', 'w', {}, issues);
    expect(issues.list[0]?.field).toBe(field);
  });
});

describe('funnels', () => {
  const body = {
    steps: [{ event: 'A' }, { event: 'B', where: { property: 'x', equals: 'y' } }, { event: 'C' }],
    windowSeconds: 600,
    from: '2024-01-01',
    to: '2024-01-31',
  };
  it('compiles steps to a parameterised mask', () => {
    const q = parseFunnelRequest(body);
    expect(q.query.params).toMatchObject({
      s0_event: 'A',
      s1_event: 'B',
      s1_w_0_prop: 'x',
      s1_w_0_v: 'y',
      s2_event: 'C',
      windowMs: 600_000,
      loMs: Date.parse('2024-01-01T00:00:00Z'),
      hiMs: Date.parse('2024-02-01T00:00:00Z'),
    });
    expect(q.query.sql).toContain('arrayFill');
    expect(q.query.params).not.toHaveProperty('n');
    expect(q.query.sql).not.toContain('GROUPING SETS');
    expect(parseFunnelRequest({ ...body, breakdown: { property: 'plan' } }).query.sql).toContain(
      'GROUPING SETS',
    );
  });
  it.each([
    [{ ...body, steps: [{ event: 'A' }] }, 'steps'],
    [{ ...body, steps: Array.from({ length: 33 }, () => ({ event: 'A' })) }, 'steps'],
    [{ ...body, steps: [{ event: 'A' }, { name: 'B' }] }, 'steps[1].name'],
    [{ ...body, windowSeconds: 0 }, 'windowSeconds'],
    [{ ...body, from: 'now' }, 'from'],
    [{ ...body, breakdown: 'ip' }, 'breakdown'],
    [{ ...body, extra: 1 }, 'extra'],
  ])('refuses %#', (b, field) => {
    expect(fieldOf(() => parseFunnelRequest(b))).toBe(field);
  });
  it('shapes rates and medians, overall and per breakdown value', () => {
    const q = parseFunnelRequest({ ...body, breakdown: 'channel' });
    const rows = [
      { total: 1, value: '', people: [10, '4', 0], medianMs: [null, 1500, 'nan'] },
      { total: 0, value: 'Email', people: [3, 0, 0], medianMs: [null, 'nan', 'nan'] },
      { total: 0, value: 'Direct', people: [7, 4, 0], medianMs: [null, '1500', null] },
    ];
    const r = buildFunnelReport(q, rows);
    expect(r.steps).toEqual([
      {
        step: 1,
        event: 'A',
        people: 10,
        conversionFromPrevious: 1,
        conversionFromFirst: 1,
        medianSecondsFromPrevious: null,
      },
      {
        step: 2,
        event: 'B',
        people: 4,
        conversionFromPrevious: 0.4,
        conversionFromFirst: 0.4,
        medianSecondsFromPrevious: 1.5,
      },
      {
        step: 3,
        event: 'C',
        people: 0,
        conversionFromPrevious: 0,
        conversionFromFirst: 0,
        medianSecondsFromPrevious: null,
      },
    ]);
    expect(r.breakdown?.values.map((v) => [v.value, v.steps.map((s) => s.people)])).toEqual([
      ['Direct', [7, 4, 0]],
      ['Email', [3, 0, 0]],
    ]);
  });
});

describe('paths', () => {
  const body = { dateFrom: '2024-01-01', dateTo: '2024-01-31' };
  it('defaults to 5 event steps and binds start and end', () => {
    const q = parsePathsRequest({ ...body, start: 'Home', end: "Order'" });
    expect(q).toMatchObject({ by: 'event', steps: 5, start: 'Home', end: "Order'" });
    expect(q.query.params).toMatchObject({ start: 'Home', end: "Order'", steps: 5, limit: 100 });
    expect(q.query.sql).not.toContain("Order'");
    expect(parsePathsRequest({ ...body, by: 'channel' }).query.sql).toContain(
      '{sessionGapMs:Int64}',
    );
  });
  it.each([
    [{ ...body, steps: 11 }, 'steps'],
    [{ ...body, steps: 1 }, 'steps'],
    [{ ...body, by: 'page' }, 'by'],
    [{ ...body, start: '' }, 'start'],
    [{ dateFrom: '2024-01-01' }, 'dateTo'],
    [{ ...body, from: 'x' }, 'from'],
  ])('refuses %#', (b, field) => {
    expect(fieldOf(() => parsePathsRequest(b))).toBe(field);
  });
  it('shapes edges', () => {
    const q = parsePathsRequest(body);
    expect(
      buildPathsReport(q, [{ source: 'step1:A', target: 'step2:B', count: '3' }]).edges,
    ).toEqual([{ source: 'step1:A', target: 'step2:B', count: 3 }]);
  });
});
