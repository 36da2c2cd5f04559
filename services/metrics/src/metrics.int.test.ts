/**
 * Metrics and alerts on a real ClickHouse engine (chDB): series from the
 * per-minute states equal direct SQL over the events on random data
 * (duplicates included); a planted drop (one channel's conversions stop at
 * a known minute) fires its rule for that channel within two evaluations,
 * notifies once through a signed webhook, resolves after recovery, and a
 * restarted evaluator notifies nothing twice; a rule under its minimum
 * volume never fires.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createLogger } from '@cdp/core';
import { verifyWebhook } from '@cdp/destinations';
import { secretBox } from '@cdp/segment-exporter';
import { createClickHouseWarehouse, TABLES, type Warehouse } from '@cdp/warehouse';
import { refusal, tempDir, type TempDir } from '@cdp/testkit';
import { createAlertService, createMetricsService, type AlertService } from './index.js';

const logger = createLogger({ service: 'metrics-test', level: 'silent' });
const MIN = 60_000;
const box = secretBox(Buffer.alloc(32, 7));

let dir: TempDir;
let wh: Warehouse;
beforeAll(async () => {
  dir = await tempDir('cdp-metrics');
  wh = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
  await wh.migrate();
}, 120_000);
afterAll(async () => {
  await wh?.close();
  await dir?.remove();
});

interface Ev {
  readonly id: string;
  readonly person: string;
  readonly ms: number;
  readonly channel: string;
  readonly type: 'page' | 'track';
  readonly event: string;
  readonly revenue?: number | undefined;
}

const row = (source: string, e: Ev): Record<string, unknown> => ({
  message_id: e.id,
  source_id: source,
  type: e.type,
  event: e.type === 'track' ? e.event : '',
  one_id: e.person,
  timestamp: new Date(e.ms).toISOString(),
  received_at: new Date(e.ms).toISOString(),
  channel: e.channel,
  properties: e.revenue !== undefined ? JSON.stringify({ revenue: e.revenue }) : '{}',
  context: '{}',
});

describe('metric series', () => {
  it('equal a direct count over the events, on random data with redelivered copies', async () => {
    const T0 = Date.parse('2026-10-01T10:00:00Z');
    const metrics = createMetricsService({ warehouse: wh, now: () => T0 + 4 * 3_600_000 });
    const ev = fc.record({
      person: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      ms: fc.integer({ min: 0, max: 3 * 3_600_000 - 1 }),
      channel: fc.constantFrom('Email', 'Direct', 'Paid Search'),
      type: fc.constantFrom('page' as const, 'track' as const),
      event: fc.constantFrom('Order Completed', 'Product Added', 'Signed Up'),
      revenue: fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }),
      copies: fc.integer({ min: 1, max: 2 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(ev, { minLength: 1, maxLength: 60 }),
        fc.constantFrom('5m', '1h'),
        async (evs, interval) => {
          const source = `prop-${run++}`;
          const events: Ev[] = evs.map((e, i) => ({ ...e, id: `${source}-${i}`, ms: T0 + e.ms }));
          const rows = events.flatMap((e, i) =>
            Array.from({ length: evs[i]!.copies }, () => row(source, e)),
          );
          await wh.insert(TABLES.events, rows);
          const q = {
            from: new Date(T0).toISOString(),
            to: new Date(T0 + 3 * 3_600_000).toISOString(),
            interval,
            breakdown: 'channel',
            source,
          };
          const step = interval === '5m' ? 300_000 : 3_600_000;
          const direct = async (expr: string, where = '1'): Promise<Map<string, number>> => {
            const r = await wh.query<{ b: string; k: string; v: number }>(
              `SELECT toString(intDiv(toUnixTimestamp64Milli(timestamp), {step:Int64}) * {step:Int64}) AS b, toString(channel) AS k, toFloat64(${expr}) AS v
             FROM (SELECT * FROM ${TABLES.events} WHERE source_id = {s:String} LIMIT 1 BY message_id)
             WHERE ${where} GROUP BY b, k`,
              { s: source, step },
            );
            return new Map(
              r.map((x) => [`${new Date(Number(x.b)).toISOString()}|${x.k}`, Number(x.v)]),
            );
          };
          const ours = async (name: string): Promise<Map<string, number>> =>
            new Map(
              (await metrics.series(name, q)).points
                .filter((p) => p.value !== null && p.value !== 0)
                .map((p) => [`${p.t}|${p.key}`, p.value as number]),
            );
          const conv = `type = 'track' AND event = 'Order Completed'`;
          expect(await ours('uv')).toEqual(await direct('uniqExact(one_id)'));
          expect(await ours('events')).toEqual(await direct('count()'));
          expect(await ours('pageviews')).toEqual(await direct('count()', `type = 'page'`));
          expect(await ours('conversions')).toEqual(await direct('count()', conv));
          expect(await ours('revenue')).toEqual(
            await direct(
              `sum(JSONExtractFloat(properties, 'revenue'))`,
              `${conv} AND JSONHas(properties, 'revenue')`,
            ),
          );
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);

  it('answer every bucket, aligned to the interval in UTC, and name a bad parameter', async () => {
    const T0 = Date.parse('2026-10-02T10:00:00Z');
    const metrics = createMetricsService({ warehouse: wh, now: () => T0 + 3_600_000 });
    await wh.insert(TABLES.events, [
      row('align', {
        id: 'al-1',
        person: 'x',
        ms: T0 + 7 * MIN,
        channel: 'Email',
        type: 'page',
        event: '',
      }),
    ]);
    const s = await metrics.series('uv', {
      from: new Date(T0 + 2 * MIN).toISOString(),
      to: new Date(T0 + 15 * MIN).toISOString(),
      interval: '5m',
      source: 'align',
    });
    expect(s.points).toEqual([
      { t: '2026-10-02T10:00:00.000Z', value: 0 },
      { t: '2026-10-02T10:05:00.000Z', value: 1 },
      { t: '2026-10-02T10:10:00.000Z', value: 0 },
    ]);
    const rate = await metrics.series('conversion_rate', {
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 10 * MIN).toISOString(),
      interval: '5m',
      source: 'align',
    });
    expect(rate.points.map((p) => p.value)).toEqual([null, 0]);
    expect(await refusal(metrics.series('uv', { interval: '2m' }))).toEqual([
      'CDP_ERR_METRIC_INVALID',
      'interval',
    ]);
    expect(await refusal(metrics.series('uv', { breakdown: 'constructor' }))).toEqual([
      'CDP_ERR_METRIC_INVALID',
      'breakdown',
    ]);
    expect(await refusal(metrics.series('ingest_lag_seconds', { breakdown: 'channel' }))).toEqual([
      'CDP_ERR_METRIC_INVALID',
      'breakdown',
    ]);
    expect(await refusal(metrics.series('uv', { breakdown: 'city' }))).toEqual([
      'CDP_ERR_METRIC_INVALID',
      'breakdown',
    ]);
    expect(await refusal(metrics.series('uv', { from: 'yesterday' }))).toEqual([
      'CDP_ERR_METRIC_INVALID',
      'from',
    ]);
    expect(await refusal(metrics.series('nope', {}))).toEqual(['CDP_ERR_METRIC_NOT_FOUND', 'name']);
    expect(await refusal(metrics.series('funnel_step_rate', {}))).toEqual([
      'CDP_ERR_METRIC_INVALID',
      'steps',
    ]);
  });

  it('operational metrics: dead-letter rate and ingest lag', async () => {
    const T0 = Date.parse('2026-10-04T10:00:00Z');
    const metrics = createMetricsService({ warehouse: wh, now: () => T0 + 3_600_000 });
    const src = 'ops';
    const at = (m: number): string => new Date(T0 + m * MIN).toISOString();
    await wh.insert(TABLES.events, [
      {
        ...row(src, {
          id: 'op-1',
          person: 'a',
          ms: T0 + MIN,
          channel: 'Email',
          type: 'page',
          event: '',
        }),
        loaded_at: at(1.05),
      },
      {
        ...row(src, {
          id: 'op-2',
          person: 'b',
          ms: T0 + 2 * MIN,
          channel: 'Email',
          type: 'page',
          event: '',
        }),
        loaded_at: at(2.15),
      },
      {
        // An offline client's event from two days before, received now: by receipt, it is now.
        ...row(src, {
          id: 'op-3',
          person: 'c',
          ms: T0 - 2 * 86_400_000,
          channel: 'Email',
          type: 'page',
          event: '',
        }),
        received_at: at(3),
        loaded_at: at(3.1),
      },
    ]);
    await wh.insert(TABLES.eventsInvalid, [
      {
        id: 'bad-1',
        received_at: at(1),
        source_id: src,
        code: 'CDP_ERR_EVENT_MISSING_ID',
        field: 'userId',
        reason: 'x',
        payload: '{}',
        ip: '',
      },
    ]);
    const q = {
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 5 * MIN).toISOString(),
      interval: '5m',
      source: src,
    };
    expect((await metrics.series('dead_letter_rate', q)).points.map((p) => p.value)).toEqual([
      1 / 4,
    ]);
    // (3 + 9 + 6) s / 3 events.
    expect((await metrics.series('ingest_lag_seconds', q)).points.map((p) => p.value)).toEqual([6]);
  });

  it('user metrics: events with filters, an aggregate, a ratio of two', async () => {
    const T0 = Date.parse('2026-10-03T10:00:00Z');
    const metrics = createMetricsService({ warehouse: wh, now: () => T0 + 3_600_000 });
    const src = 'custom';
    const e = (
      i: number,
      person: string,
      revenue: number,
      minute: number,
    ): Record<string, unknown> =>
      row(src, {
        id: `cu-${i}`,
        person,
        ms: T0 + minute * MIN,
        channel: 'Email',
        type: 'track',
        event: 'Order Completed',
        revenue,
      });
    await wh.insert(TABLES.events, [
      e(1, 'a', 50, 1),
      e(2, 'a', 250, 2),
      e(3, 'b', 300, 3),
      e(3, 'b', 300, 3),
      e(4, 'c', 20, 7),
    ]);
    await metrics.create({
      name: 'big_orders',
      event: 'Order Completed',
      where: [{ property: 'revenue', op: 'gte', value: 200 }],
    });
    await metrics.create({
      name: 'max_order',
      event: 'Order Completed',
      measure: { fn: 'max', property: 'revenue' },
    });
    await metrics.create({
      name: 'big_share',
      ratio: { numerator: 'big_orders', denominator: 'conversions' },
    });
    const q = {
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 15 * MIN).toISOString(),
      interval: '5m',
      source: src,
    };
    // The third bucket has no orders: no big orders (0), no maximum (null), a share of nothing (null).
    expect((await metrics.series('big_orders', q)).points.map((p) => p.value)).toEqual([2, 0, 0]);
    expect((await metrics.series('max_order', q)).points.map((p) => p.value)).toEqual([
      300,
      20,
      null,
    ]);
    expect((await metrics.series('big_share', q)).points.map((p) => p.value)).toEqual([
      2 / 3,
      0,
      null,
    ]);
    expect(await refusal(metrics.create({ name: 'uv', event: 'x' }))).toEqual([
      'CDP_ERR_METRIC_INVALID',
      'name',
    ]);
    expect(
      await refusal(
        metrics.create({ name: 'r2', ratio: { numerator: 'nope', denominator: 'uv' } }),
      ),
    ).toEqual(['CDP_ERR_METRIC_INVALID', 'ratio.numerator']);
    expect(
      await refusal(
        metrics.create({ name: 'w', where: [{ property: 'x', op: 'gt', value: 'a' }] }),
      ),
    ).toEqual(['CDP_ERR_METRIC_INVALID', 'where[0].value']);
    expect(await refusal(metrics.create({ name: 'big_orders', event: 'x' }))).toEqual([
      'CDP_ERR_METRIC_EXISTS',
      'name',
    ]);
    expect(await refusal(metrics.remove('big_orders'))).toEqual(['CDP_ERR_METRIC_INVALID', 'name']);
  });
});

describe('alert rules', () => {
  // Traffic every minute from T0 - 60 min to T0 + 30 min, per channel 40
  // people with a page view, 10 of them buying; Paid Search's purchases
  // stop at T0 (the drop) and come back at T0 + 10 min.
  const T0 = Date.parse('2026-11-02T12:00:00Z');
  const SRC = 'drop';
  const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
  let server: Server;
  let url = '';

  beforeAll(async () => {
    const rows: Record<string, unknown>[] = [];
    for (let m = -60; m < 30; m++)
      for (const channel of ['Email', 'Paid Search']) {
        const dead = channel === 'Paid Search' && m >= 0 && m < 10;
        for (let i = 0; i < 40; i++) {
          const person = `${channel}-${m}-${i}`;
          const ms = T0 + m * MIN + i * 1000;
          rows.push(row(SRC, { id: `${person}-p`, person, ms, channel, type: 'page', event: '' }));
          if (i < 10 && !dead)
            rows.push(
              row(SRC, {
                id: `${person}-o`,
                person,
                ms: ms + 500,
                channel,
                type: 'track',
                event: 'Order Completed',
                revenue: 40,
              }),
            );
        }
      }
    await wh.insert(TABLES.events, rows);
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const services = (clock: { t: number }): { alerts: AlertService } => {
    const metrics = createMetricsService({ warehouse: wh, now: () => clock.t });
    return {
      alerts: createAlertService({
        warehouse: wh,
        metrics,
        secrets: box,
        logger,
        now: () => clock.t,
        holder: 'test',
      }),
    };
  };

  it('a channel whose conversions stop fires within two evaluations, once, and resolves after recovery; a restart notifies nothing twice', async () => {
    const clock = { t: T0 - 5 * MIN + 5000 };
    let { alerts } = services(clock);
    const rule = await alerts.create({
      name: 'conversion rate down',
      metric: 'conversion_rate',
      filter: { source: SRC },
      windowMinutes: 2,
      compare: 'previous',
      direction: 'down',
      change: 0.4,
      minVolume: 50,
      breakdown: 'channel',
      webhook: { url, secret: 'shh-secret' },
    });
    expect(rule.webhook?.secret).toBe('****cret');
    const firedAt: number[] = [];
    for (let k = -5; k <= 16; k++) {
      clock.t = T0 + k * MIN + 5000;
      if (k === 5) ({ alerts } = services(clock)); // a restarted evaluator goes on from the stored states
      const r = await alerts.tick();
      expect(r.active).toBe(true);
      if (r.transitions > 0) firedAt.push(k);
    }
    const events = await alerts.events(rule.id, 100);
    expect(events.map((e) => [e.key, e.from, e.to, e.notified]).reverse()).toEqual([
      ['Paid Search', 'ok', 'firing', 'sent'],
      ['Paid Search', 'firing', 'resolved', 'sent'],
    ]);
    // The drop is at minute 0: fired at the first or second evaluation after it.
    expect(firedAt[0]).toBeGreaterThanOrEqual(1);
    expect(firedAt[0]).toBeLessThanOrEqual(2);
    expect(firedAt[1]).toBeGreaterThan(10);
    // Notified once each, signed, with the channel.
    expect(received.length).toBe(2);
    for (const r of received)
      expect(
        verifyWebhook('shh-secret', r.headers, r.body, {
          nowMs: Number(r.headers['x-cdp-timestamp']) * 1000,
        }),
      ).toEqual({ ok: true });
    expect(
      verifyWebhook('other', received[0]!.headers, received[0]!.body, {
        nowMs: Number(received[0]!.headers['x-cdp-timestamp']) * 1000,
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });
    const bodies = received.map(
      (r) => JSON.parse(r.body) as { event: { key: string; to: string }; alert: { id: string } },
    );
    expect(bodies.map((b) => [b.alert.id, b.event.key, b.event.to])).toEqual([
      [rule.id, 'Paid Search', 'firing'],
      [rule.id, 'Paid Search', 'resolved'],
    ]);
    expect(received.map((r) => r.headers['x-cdp-delivery-id'])).toEqual(
      events.map((e) => e.id).reverse(),
    );
    // Another restart and tick: nothing new.
    ({ alerts } = services(clock));
    await alerts.tick();
    expect(received.length).toBe(2);
    expect((await alerts.get(rule.id)).states.map((s) => [s.key, s.state])).toEqual([
      ['Email', 'ok'],
      ['Paid Search', 'resolved'],
    ]);
    // test: evaluates without recording.
    clock.t = T0 + 1 * MIN + 5000;
    const t = await alerts.test(rule.id);
    expect(t.results.find((x) => x.key === 'Paid Search')).toMatchObject({
      firing: true,
      value: 0.125,
      reference: 0.25,
    });
    expect(t.results.find((x) => x.key === 'Email')).toMatchObject({ firing: false });
    expect((await alerts.events(rule.id, 100)).length).toBe(2);
    await alerts.remove(rule.id);
  });

  it('a rule under its minimum volume never fires; one muted records but does not notify', async () => {
    const clock = { t: T0 + 2 * MIN + 5000 };
    const { alerts } = services(clock);
    const quiet = await alerts.create({
      name: 'needs volume',
      metric: 'conversion_rate',
      filter: { source: SRC },
      windowMinutes: 2,
      compare: 'previous',
      direction: 'down',
      change: 0.4,
      minVolume: 1000,
      breakdown: 'channel',
    });
    const muted = await alerts.create({
      name: 'muted',
      metric: 'conversions',
      filter: { source: SRC, channel: 'Paid Search' },
      windowMinutes: 2,
      compare: 'threshold',
      threshold: 1,
      direction: 'down',
      muted: true,
      webhook: { url, secret: 'x' },
    });
    await alerts.tick();
    expect(await alerts.events(quiet.id, 10)).toEqual([]);
    expect((await alerts.events(muted.id, 10)).map((e) => [e.to, e.notified])).toEqual([
      ['firing', 'muted'],
    ]);
    const ours = received.filter((r) =>
      [quiet.id, muted.id].includes((JSON.parse(r.body) as { alert: { id: string } }).alert.id),
    );
    expect(ours).toEqual([]);
    await alerts.remove(quiet.id);
    await alerts.remove(muted.id);
  });

  it('one evaluator at a time (a lease); a snoozed rule records without sending', async () => {
    const clock = { t: T0 + 2 * MIN + 5000 };
    const metrics = createMetricsService({ warehouse: wh, now: () => clock.t });
    const make = (holder: string): AlertService =>
      createAlertService({
        warehouse: wh,
        metrics,
        secrets: box,
        logger,
        now: () => clock.t,
        holder,
        leaseMs: 60_000,
        leaseName: 'lease-test',
      });
    const a = make('evaluator-a');
    const b = make('evaluator-b');
    const snoozed = await a.create({
      name: 'snoozed',
      metric: 'conversions',
      filter: { source: SRC, channel: 'Paid Search' },
      windowMinutes: 2,
      compare: 'threshold',
      threshold: 1,
      direction: 'down',
      snoozedUntil: new Date(clock.t + 3_600_000).toISOString(),
      webhook: { url, secret: 'x' },
    });
    expect((await a.tick()).active).toBe(true);
    expect((await b.tick()).active).toBe(false);
    expect((await a.tick()).active).toBe(true);
    // The holder stops renewing: once its lease ran out, the other takes over.
    clock.t += 61_000;
    expect((await b.tick()).active).toBe(true);
    expect((await a.tick()).active).toBe(false);
    expect((await a.events(snoozed.id, 10)).map((e) => [e.to, e.notified])).toEqual([
      ['firing', 'snoozed'],
    ]);
    expect(received.filter((r) => r.body.includes(snoozed.id))).toEqual([]);
    await a.remove(snoozed.id);
  });

  it('refuses bad rules naming the field', async () => {
    const { alerts } = services({ t: T0 });
    const base = {
      name: 'x',
      metric: 'uv',
      windowMinutes: 60,
      compare: 'previous',
      direction: 'down',
      change: 0.15,
    };
    expect(await refusal(alerts.create({ ...base, metric: 'nope' }))).toEqual([
      'CDP_ERR_ALERT_INVALID',
      'metric',
    ]);
    expect(await refusal(alerts.create({ ...base, direction: 'sideways' }))).toEqual([
      'CDP_ERR_ALERT_INVALID',
      'direction',
    ]);
    expect(await refusal(alerts.create({ ...base, change: undefined }))).toEqual([
      'CDP_ERR_ALERT_INVALID',
      'change',
    ]);
    expect(
      await refusal(alerts.create({ ...base, compare: 'threshold', change: undefined })),
    ).toEqual(['CDP_ERR_ALERT_INVALID', 'threshold']);
    expect(await refusal(alerts.create({ ...base, compare: 'baseline' }))).toEqual([
      'CDP_ERR_ALERT_INVALID',
      'baselineWindows',
    ]);
    expect(
      await refusal(alerts.create({ ...base, metric: 'dead_letter_rate', breakdown: 'channel' })),
    ).toEqual(['CDP_ERR_ALERT_INVALID', 'breakdown']);
    expect(await refusal(alerts.create({ ...base, breakdown: 'city' }))).toEqual([
      'CDP_ERR_ALERT_INVALID',
      'breakdown',
    ]);
    expect(
      await refusal(alerts.create({ ...base, webhook: { url: 'not a url', secret: 's' } })),
    ).toEqual(['CDP_ERR_ALERT_INVALID', 'webhook.url']);
    expect(await refusal(alerts.create({ ...base, extra: 1 }))).toEqual([
      'CDP_ERR_ALERT_INVALID',
      'extra',
    ]);
    expect(await refusal(alerts.get('nope'))).toEqual(['CDP_ERR_ALERT_NOT_FOUND', 'id']);
  });
});
