/**
 * The loader on real parts: the embedded bus and chDB. Messages produced to
 * the events topic must land in `events` with every column mapped (the
 * materialized view of migration 004), bad messages in `events_invalid`, and
 * a second pass over the same messages must not store a row again (its
 * inserts carry the same dedup tokens): counted on the stored rows, without
 * `FINAL`, with merges stopped so that no merge can collapse a copy first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger, topics as topicNames } from '@cdp/core';
import { createEmbeddedBus, type Bus } from '@cdp/bus';
import { createClickHouseWarehouse, type Warehouse } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createLoader } from './loader.js';

const t = topicNames('cdp.');
const logger = createLogger({ service: 'loader-test', level: 'silent' });

const message = (id: string, over: Record<string, unknown> = {}): string =>
  JSON.stringify({
    schemaVersion: 1,
    messageId: id,
    sourceId: 's1',
    receivedAt: 1_700_000_000_000,
    type: 'track',
    enriched: {
      timestamp: 1_699_999_999_000,
      channel: 'Paid Search',
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'winter',
      utm_term: null,
      utm_content: null,
      page_url: 'https://shop.example/?utm_source=google',
      page_path: '/',
      referrer: 'https://www.google.com/',
      ip: '1.2.3.0',
      user_agent: 'Mozilla/5.0',
      is_bot: false,
      sent_at: 1_700_000_000_100,
      original_timestamp: null,
      clock_skew_flag: '',
    },
    event: {
      type: 'track',
      messageId: id,
      event: 'Order Completed',
      userId: 'u1',
      anonymousId: 'a1',
      properties: { revenue: 10, tags: ['a'] },
      context: { traits: { email: 'x@y' }, library: { name: 'n' } },
    },
    ...over,
  });

describe('loader (embedded bus, chDB)', () => {
  let dir: TempDir;
  let bus: Bus;
  let warehouse: Warehouse;

  beforeAll(async () => {
    dir = await tempDir('cdp-loader');
    warehouse = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
    await warehouse.migrate();
    bus = await createEmbeddedBus({ dir: dir.join('bus'), logger });
  });
  afterAll(async () => {
    await bus?.close();
    await warehouse?.close();
    await dir?.remove();
  });

  it('maps event messages to rows, dead-letters bad ones, and a second pass stores no row again', async () => {
    // One partition: both passes then read these messages as one batch, so
    // the loader's insert (and its dedup token, derived from the offsets) is
    // the same both times. Over several partitions, how batches are grouped
    // into one insert depends on timing, and a different grouping is a
    // different token.
    await bus.ensureTopics([{ name: t.eventsRaw, partitions: 1 }]);
    await bus.produce(t.eventsRaw, [
      { key: 'a1', value: message('m1') },
      {
        key: 'u2',
        value: message('m2', {
          type: 'identify',
          enriched: { timestamp: null },
          event: { type: 'identify', userId: 'u2', traits: { plan: 'pro' } },
        }),
      },
      { key: 'x', value: '{"not": "an event"' },
      { key: 'x', value: JSON.stringify({ schemaVersion: 1, sourceId: 's1', receivedAt: 5 }) },
      { key: 'x', value: `${message('m3').slice(0, 20)}\n${message('m3').slice(20)}` },
    ]);
    await bus.produce(t.eventsInvalid, [
      {
        key: null,
        value: JSON.stringify({
          schemaVersion: 1,
          id: 'd1',
          receivedAt: Date.now(),
          sourceId: 's1',
          code: 'CDP_ERR_EVENT_MISSING_ID',
          field: 'userId',
          reason: 'r',
          payload: '{}',
          ip: '',
        }),
      },
    ]);

    const first = createLoader({ bus, warehouse, topics: t, logger, flushIntervalMs: 100 });
    await first.start();
    const rows = await waitFor(async () => {
      const r = await warehouse.query<Record<string, unknown>>(
        'SELECT * FROM events FINAL ORDER BY message_id',
      );
      expect(r).toHaveLength(2);
      return r;
    });
    await first.stop();

    expect(rows[0]).toMatchObject({
      message_id: 'm1',
      source_id: 's1',
      type: 'track',
      event: 'Order Completed',
      user_id: 'u1',
      anonymous_id: 'a1',
      one_id: '',
      timestamp: '2023-11-14 22:13:19.000',
      received_at: '2023-11-14 22:13:20.000',
      sent_at: '2023-11-14 22:13:20.100',
      original_timestamp: null,
      channel: 'Paid Search',
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'winter',
      utm_term: '',
      page_path: '/',
      referrer: 'https://www.google.com/',
      ip: '1.2.3.0',
      user_agent: 'Mozilla/5.0',
      is_bot: false,
    });
    expect(JSON.parse(String(rows[0]?.['properties']))).toEqual({ revenue: 10, tags: ['a'] });
    expect(JSON.parse(String(rows[0]?.['traits']))).toEqual({ email: 'x@y' });
    expect(JSON.parse(String(rows[0]?.['context']))).toEqual({
      traits: { email: 'x@y' },
      library: { name: 'n' },
    });
    // identify: traits from the top level; no enriched timestamp falls back to receivedAt.
    expect(rows[1]).toMatchObject({
      message_id: 'm2',
      type: 'identify',
      user_id: 'u2',
      timestamp: '2023-11-14 22:13:20.000',
      channel: '',
    });
    expect(JSON.parse(String(rows[1]?.['traits']))).toEqual({ plan: 'pro' });
    expect(JSON.parse(String(rows[1]?.['properties']))).toEqual({});

    const dead = await waitFor(async () => {
      const r = await warehouse.query<{ code: string; payload: string }>(
        'SELECT code, payload FROM events_invalid FINAL ORDER BY code, payload',
      );
      expect(r, JSON.stringify(r)).toHaveLength(4);
      return r;
    });
    expect(dead.filter((d) => d.code === 'CDP_ERR_LOADER_BAD_MESSAGE')).toHaveLength(3);
    expect(dead.map((d) => d.payload)).toContain('{"not": "an event"');
    expect(dead.find((d) => d.code === 'CDP_ERR_EVENT_MISSING_ID')).toBeDefined();

    // Stored rows, copies included (no FINAL): the events, and the dead
    // letters the materialized view wrote from the same insert. Those have
    // `received_at = now64()` in their sorting key, so a copy would never
    // even merge away: only the dedup token keeps them single.
    const stored = async (): Promise<unknown> => {
      const [events] = await warehouse.query<{ n: number; distinct: number }>(
        'SELECT count() AS n, uniqExact(message_id) AS distinct FROM events',
      );
      const [fromView] = await warehouse.query<{ n: number }>(
        "SELECT count() AS n FROM events_invalid WHERE code = 'CDP_ERR_LOADER_BAD_MESSAGE' AND position(payload, '\\n') = 0",
      );
      return { events, deadLettersFromView: fromView?.n };
    };
    const once = { events: { n: 2, distinct: 2 }, deadLettersFromView: 2 };
    expect(await stored()).toEqual(once);

    // A second loader group reads the same messages again. Merges are
    // stopped first, so that a copy it stored is still there to be counted.
    await warehouse.command('SYSTEM STOP MERGES events');
    await warehouse.command('SYSTEM STOP MERGES events_invalid');
    try {
      const registry = new Registry();
      const second = createLoader({
        bus,
        warehouse,
        topics: t,
        logger,
        flushIntervalMs: 100,
        groupPrefix: 'again.',
        registry,
      });
      await second.start();
      // The redelivery was handled once the second loader's insert of the 4
      // lines (2 events, 2 lines the view dead-letters) has returned.
      await waitFor(
        async () => {
          const m = await registry.getSingleMetricAsString('cdp_loader_rows_total');
          const n = Number(/cdp_loader_rows_total\{table="events"\} (\d+)/.exec(m)?.[1] ?? 0);
          expect(n).toBeGreaterThanOrEqual(4);
        },
        { what: 'the second loader to insert the redelivered batch' },
      );
      await second.stop();
      expect(await stored()).toEqual(once);
    } finally {
      await warehouse.command('SYSTEM START MERGES events');
      await warehouse.command('SYSTEM START MERGES events_invalid');
    }
  });
});
