/**
 * The ingest app when the bus cannot take events: a 503 with Retry-After and
 * a code, never a 200; the pixel and the click redirect still answer; and
 * readiness says which part is down. Real parts: the embedded bus (closed to
 * make it refuse) and chDB.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger, topics as topicNames } from '@cdp/core';
import { createEmbeddedBus, type Bus } from '@cdp/bus';
import { createClickHouseWarehouse, type Warehouse } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createTopicValidators } from '@cdp/schemas';
import { buildApp } from './app.js';
import { createSourceRegistry, type SourceRegistry } from '@cdp/sources';

const logger = createLogger({ service: 'ingest-test', level: 'silent' });

describe('ingest when the bus refuses events', () => {
  let dir: TempDir;
  let warehouse: Warehouse;
  let sources: SourceRegistry;
  let writeKey: string;
  // Each test gets a bus and an app of its own: one of them closes its bus.
  let bus: Bus;
  let app: FastifyInstance;
  let tests = 0;

  beforeAll(async () => {
    dir = await tempDir('cdp-ingest');
    warehouse = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
    await warehouse.migrate();
    sources = createSourceRegistry({ warehouse, logger });
    await sources.start();
    const created = await sources.create({ name: 'web', redirectAllowlist: ['shop.example'] });
    writeKey = created.writeKey;
  });
  beforeEach(async () => {
    bus = await createEmbeddedBus({ dir: dir.join(`bus-${tests++}`), logger });
    app = await buildApp({
      bus,
      warehouse,
      sources,
      topics: topicNames('cdp.'),
      logger,
    });
  });
  afterEach(async () => {
    await app?.close();
    await bus?.close();
  });
  afterAll(async () => {
    sources?.stop();
    await warehouse?.close();
    await dir?.remove();
  });

  it('produces messages that match the topic schemas in schemas/topics', async () => {
    const validators = createTopicValidators();
    const seen: { topic: string; value: unknown }[] = [];
    const t = topicNames('cdp.');
    const subs = await Promise.all(
      [t.eventsRaw, t.eventsInvalid].map((topic) =>
        bus.subscribe({
          topic,
          group: `schema-check-${topic}`,
          handleBatch: async (b) => {
            for (const m of b.messages)
              seen.push({ topic, value: JSON.parse(m.value.toString('utf8')) as unknown });
          },
        }),
      ),
    );
    await app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { 'content-type': 'application/json' },
      payload: {
        writeKey,
        anonymousId: 'a1',
        event: 'Viewed',
        context: { page: { url: 'https://shop.example/?utm_source=x' } },
      },
    });
    await app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { 'content-type': 'application/json' },
      payload: { writeKey, event: 'No Id' },
    });
    await waitFor(() =>
      expect(new Set(seen.map((x) => x.topic))).toEqual(new Set([t.eventsRaw, t.eventsInvalid])),
    );
    await Promise.all(subs.map((x) => x.close()));
    for (const { topic, value } of seen) {
      const validate = validators.get(topic === t.eventsRaw ? 'events-raw' : 'events-invalid');
      expect(validate, topic).toBeDefined();
      expect(validate?.(value), `${topic}: ${JSON.stringify(validate?.errors)}`).toBe(true);
    }
  });

  it('accepts while the bus is up, then answers 503 with Retry-After once it is not', async () => {
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/v1/track',
        headers: { 'content-type': 'application/json' },
        payload: { writeKey, userId: 'u1', event: 'Clicked' },
      });
    expect((await send()).statusCode).toBe(200);
    await bus.close();
    const res = await send();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ code: 'CDP_ERR_INGEST_BACKPRESSURE' });

    const batch = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json' },
      payload: { writeKey, batch: [{ type: 'track', userId: 'u1', event: 'A' }] },
    });
    expect(batch.statusCode).toBe(503);

    const pixel = await app.inject({
      method: 'GET',
      url: `/v1/pixel.gif?writeKey=${writeKey}&userId=u1&event=Open`,
    });
    expect(pixel.statusCode).toBe(200);
    expect(pixel.headers['content-type']).toBe('image/gif');

    const click = await app.inject({
      method: 'GET',
      url: `/v1/r?writeKey=${writeKey}&userId=u1&u=${encodeURIComponent('https://shop.example/x')}`,
    });
    expect(click.statusCode).toBe(302);
    expect(click.headers['location']).toBe('https://shop.example/x');

    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      status: 'not_ready',
      checks: { warehouse: { status: 'ok' } },
    });
    expect(ready.json().checks.bus.status).not.toBe('ok');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
