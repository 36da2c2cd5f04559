/**
 * Derived events (the tag engine's tier changes, distributed): `POST
 * /v1/derived/batch` takes Segment track calls with the admin token only,
 * and puts them on the raw events topic under the derived source, through
 * the same normalisation and enrichment as any event. Real parts: the
 * embedded bus and chDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger, DERIVED_SOURCE_ID, topics as topicNames } from '@cdp/core';
import { createEmbeddedBus, type Bus } from '@cdp/bus';
import { createClickHouseWarehouse, type Warehouse } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createSourceRegistry } from '@cdp/sources';
import { buildApp } from './app.js';

const logger = createLogger({ service: 'ingest-test', level: 'silent' });
const t = topicNames('cdp.');
const TOKEN = 'cdp_admin_derived_test';

describe('derived events (admin token)', () => {
  let dir: TempDir;
  let bus: Bus;
  let warehouse: Warehouse;
  let app: FastifyInstance;
  let writeKey: string;

  beforeAll(async () => {
    dir = await tempDir('cdp-ingest-derived');
    warehouse = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
    await warehouse.migrate();
    bus = await createEmbeddedBus({ dir: dir.join('bus'), logger });
    const sources = createSourceRegistry({ warehouse, logger });
    await sources.start();
    writeKey = (await sources.create({ name: 'web' })).writeKey;
    app = await buildApp({ bus, warehouse, sources, topics: t, logger, derivedToken: TOKEN });
  });
  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await warehouse?.close();
    await dir?.remove();
  });

  const post = (authorization: string | undefined, body: unknown) =>
    app.inject({
      method: 'POST',
      url: '/v1/derived/batch',
      headers: {
        'content-type': 'application/json',
        ...(authorization === undefined ? {} : { authorization }),
      },
      payload: JSON.stringify(body),
    });

  it('refuses a write key or no token, and records calls under the derived source', async () => {
    const call = {
      type: 'track',
      messageId: 'derived-1',
      userId: 'u1',
      event: 'Tier Upgraded',
      properties: { from: 'Silver', to: 'Gold' },
      timestamp: '2025-06-01T00:00:00.000Z',
    };
    expect((await post(undefined, { batch: [call] })).statusCode).toBe(401);
    const withKey = await post(`Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`, {
      batch: [call],
    });
    expect(withKey.statusCode).toBe(401);
    expect(withKey.json()).toMatchObject({ code: 'CDP_ERR_API_UNAUTHORIZED' });
    const bad = await post(`Bearer ${TOKEN}`, { batch: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'batch' });

    const ok = await post(`Bearer ${TOKEN}`, { batch: [call] });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ success: true, accepted: 1 });

    const seen: Record<string, unknown>[] = [];
    const sub = await bus.subscribe({
      topic: t.eventsRaw,
      group: 'derived-check',
      handleBatch: async (b) => {
        for (const m of b.messages)
          seen.push(JSON.parse(m.value.toString('utf8')) as Record<string, unknown>);
      },
    });
    try {
      await waitFor(() => seen.length === 1);
    } finally {
      await sub.close();
    }
    expect(seen[0]).toMatchObject({
      schemaVersion: 1,
      messageId: 'derived-1',
      sourceId: DERIVED_SOURCE_ID,
      type: 'track',
      event: { event: 'Tier Upgraded', userId: 'u1' },
    });
  });
});
