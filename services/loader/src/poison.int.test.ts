/**
 * No record stops the loader: a row the warehouse refuses is found by
 * bisecting its insert and dealt with alone (dead-lettered, or dropped with
 * a log line and a metric), and every other row of the batch and of later
 * batches is written. Real parts: the embedded bus and chDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger, topics as topicNames } from '@cdp/core';
import { createConsumerHealth, createEmbeddedBus, type Bus } from '@cdp/bus';
import { createClickHouseWarehouse, TABLES, type Warehouse } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createLoader, type Loader } from './loader.js';

const logger = createLogger({ service: 'loader-poison-test', level: 'silent' });

describe('loader with records the warehouse refuses', () => {
  let dir: TempDir;
  let bus: Bus;
  let warehouse: Warehouse;
  const loaders: Loader[] = [];

  beforeAll(async () => {
    dir = await tempDir('cdp-loader-poison');
    warehouse = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
    await warehouse.migrate();
    bus = await createEmbeddedBus({ dir: dir.join('bus'), logger, retryBackoffMs: 10 });
  });
  afterAll(async () => {
    for (const l of loaders) await l.stop();
    await bus?.close();
    await warehouse?.close();
    await dir?.remove();
  });

  const start = async (prefix: string): Promise<{ registry: Registry; loader: Loader }> => {
    const registry = new Registry();
    const loader = createLoader({
      bus,
      warehouse,
      topics: topicNames(prefix),
      logger,
      flushIntervalMs: 50,
      registry,
      groupPrefix: prefix,
      health: createConsumerHealth({ registry }),
    });
    await loader.start();
    loaders.push(loader);
    return { registry, loader };
  };

  it('writes every merge but the one refused, and counts that one', async () => {
    const t = topicNames('lp1.');
    const { registry } = await start('lp1.');
    const merge = (from: string, version: number): string =>
      JSON.stringify({ from, into: 'lp1-into', reason: 'identify', version });
    // A negative version (a producer other than ours): ClickHouse refuses
    // the row, and so the whole insert ("Unsigned type must not contain '-'").
    await bus.produce(t.identityMerges, [
      { key: 'a', value: merge('lp1-a', 1) },
      { key: 'b', value: merge('lp1-b', -5) },
      { key: 'c', value: merge('lp1-c', 3) },
    ]);
    await bus.produce(t.identityMerges, [{ key: 'd', value: merge('lp1-d', 4) }]);
    await waitFor(
      async () => {
        const rows = await warehouse.query<{ f: string }>(
          `SELECT from_one_id AS f FROM ${TABLES.personOverrides} WHERE into_one_id = 'lp1-into' ORDER BY f`,
        );
        expect(rows.map((r) => r.f)).toEqual(['lp1-a', 'lp1-c', 'lp1-d']);
      },
      { timeoutMs: 20_000 },
    );
    expect(await registry.getSingleMetricAsString('cdp_loader_rows_refused_total')).toContain(
      'cdp_loader_rows_refused_total{table="person_overrides"} 1',
    );
  });

  it('stores a dead letter with a lone surrogate well-formed, beside the others of its batch', async () => {
    const t = topicNames('lp2.');
    await start('lp2.');
    // Received now: events_invalid keeps 90 days (TTL), and a row older than
    // that may be gone by the next merge, before the test reads it.
    const receivedAt = Date.now();
    const dl = (id: string, reason: string): string =>
      `{"schemaVersion":1,"id":"${id}","receivedAt":${receivedAt},"sourceId":"s","code":"CDP_ERR_EVENT_MISSING_ID","field":"userId","reason":"${reason}","payload":"{}","truncated":false,"ip":""}`;
    await bus.produce(t.eventsInvalid, [
      { key: null, value: dl('lp2-1', 'first') },
      { key: null, value: dl('lp2-2', 'bad \\ud800 reason') },
      { key: null, value: dl('lp2-3', 'third') },
    ]);
    await waitFor(
      async () => {
        const rows = await warehouse.query<{ id: string; reason: string }>(
          `SELECT id, reason FROM ${TABLES.eventsInvalid} WHERE id LIKE 'lp2-%' ORDER BY id`,
        );
        expect(rows).toEqual([
          { id: 'lp2-1', reason: 'first' },
          { id: 'lp2-2', reason: 'bad \ufffd reason' },
          { id: 'lp2-3', reason: 'third' },
        ]);
      },
      { timeoutMs: 20_000 },
    );
  });
});
