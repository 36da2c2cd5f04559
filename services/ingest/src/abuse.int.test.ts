/**
 * What anyone with the public write key (or without one) can do to ingest:
 * requests without a valid key are counted and only sampled small (they
 * cannot fill the disk through the dead-letter table), write keys never
 * reach a dead letter, floods get 429 with Retry-After, and big integer
 * user ids keep their digits. Real parts: the embedded bus and chDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger, topics as topicNames, type Topics } from '@cdp/core';
import { createEmbeddedBus, type Bus, type Subscription } from '@cdp/bus';
import { createClickHouseWarehouse, type Warehouse } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createSourceRegistry, type SourceRegistry } from '@cdp/sources';
import { Registry } from 'prom-client';
import { buildApp } from './app.js';
import type { IngestLimits } from './context.js';
import { createIngestMetrics } from './metrics.js';

const logger = createLogger({ service: 'ingest-abuse-test', level: 'silent' });
/** Each test its own topics, so that none sees another's messages. */
let run = 0;

interface DeadLetter {
  code: string;
  payload: string;
  truncated: boolean;
  reason: string;
}

describe('ingest under abuse', () => {
  let dir: TempDir;
  let bus: Bus;
  let warehouse: Warehouse;
  let sources: SourceRegistry;
  let writeKey: string;
  const apps: FastifyInstance[] = [];
  const subs: Subscription[] = [];

  beforeAll(async () => {
    dir = await tempDir('cdp-ingest-abuse');
    warehouse = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
    await warehouse.migrate();
    bus = await createEmbeddedBus({ dir: dir.join('bus'), logger });
    sources = createSourceRegistry({ warehouse, logger });
    await sources.start();
    writeKey = (await sources.create({ name: 'web' })).writeKey;
  });
  afterAll(async () => {
    await Promise.all(subs.map((s) => s.close()));
    for (const app of apps) await app.close();
    await bus?.close();
    await warehouse?.close();
    await dir?.remove();
  });

  const start = async (
    limits: Partial<IngestLimits> = {},
  ): Promise<{ app: FastifyInstance; registry: Registry; t: Topics }> => {
    const registry = new Registry();
    const t = topicNames(`abuse${++run}.`);
    // One partition: a request's dead letter comes after every earlier one.
    await bus.ensureTopics([
      { name: t.eventsInvalid, partitions: 1 },
      { name: t.eventsRaw, partitions: 1 },
    ]);
    const app = await buildApp({
      bus,
      warehouse,
      sources,
      topics: t,
      logger,
      limits,
      metrics: createIngestMetrics({ registry }),
    });
    apps.push(app);
    return { app, registry, t };
  };

  /** Every message on `topic` from now on, parsed. */
  const tail = async <T>(topic: string): Promise<T[]> => {
    const seen: T[] = [];
    subs.push(
      await bus.subscribe({
        topic,
        group: `tail-${topic}-${subs.length}`,
        maxWaitMs: 5,
        handleBatch: async (b) => {
          for (const m of b.messages) seen.push(JSON.parse(m.value.toString('utf8')) as T);
        },
      }),
    );
    return seen;
  };

  /** Sends an authenticated bad event whose dead letter marks the end of what came before. */
  const sentinel = async (app: FastifyInstance, mark: string): Promise<void> => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/track',
      remoteAddress: '10.9.9.9',
      headers: { 'content-type': 'application/json' },
      payload: { writeKey, event: mark },
    });
    expect(res.statusCode).toBe(400);
  };
  const upTo = (dead: DeadLetter[], mark: string): DeadLetter[] =>
    dead.slice(
      0,
      dead.findIndex((d) => d.payload.includes(mark)),
    );

  it('counts requests without a valid write key and keeps only a few 1 KiB samples', async () => {
    const { app, registry, t } = await start({ CDP_UNAUTH_SAMPLES_PER_MIN: 5 });
    const dead = await tail<DeadLetter>(t.eventsInvalid);
    const big = JSON.stringify({ writeKey: 'not-a-key', event: 'x'.repeat(60_000) });
    for (let i = 0; i < 60; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/track',
        remoteAddress: `10.0.0.${i % 250}`,
        headers: { 'content-type': 'application/json' },
        payload: i % 2 === 0 ? big : `{"writeKey":"nope","event":"${'y'.repeat(40_000)}`,
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
    }
    await sentinel(app, 'sentinel-unauth');
    await waitFor(() => expect(dead.some((d) => d.payload.includes('sentinel-unauth'))).toBe(true));
    const samples = upTo(dead, 'sentinel-unauth');
    expect(samples.length).toBe(5);
    for (const s of samples) {
      expect(s.payload.length).toBeLessThanOrEqual(1024);
      expect(s.truncated).toBe(true);
    }
    const counted = await registry.getSingleMetric('cdp_ingest_unauthenticated_total')?.get();
    const total = (counted?.values ?? []).reduce((n, v) => n + v.value, 0);
    expect(total).toBe(60);
  });

  it('never stores a write key in a dead letter (body or pixel URL)', async () => {
    const { app, t } = await start();
    const dead = await tail<DeadLetter>(t.eventsInvalid);
    // A valid key and a bad event: the whole body is dead-lettered, its key redacted.
    const res = await app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { 'content-type': 'application/json' },
      payload: { writeKey, event: 'No Id Here' },
    });
    expect(res.statusCode).toBe(400);
    // A pixel with a key that does not exist (a revoked one): sampled, redacted.
    await app.inject({ method: 'GET', url: `/v1/pixel.gif?writeKey=wk_revoked_123&anonymousId=a` });
    await sentinel(app, 'sentinel-redact');
    await waitFor(() => expect(dead.some((d) => d.payload.includes('sentinel-redact'))).toBe(true));
    const before = upTo(dead, 'sentinel-redact');
    expect(before.map((d) => d.code)).toEqual([
      'CDP_ERR_EVENT_MISSING_ID',
      'CDP_ERR_INGEST_AUTH_INVALID',
    ]);
    for (const d of dead) {
      expect(d.payload).not.toContain(writeKey);
      expect(d.payload).not.toContain('wk_revoked_123');
    }
    expect(before[0]?.payload).toContain('"writeKey":"[redacted]"');
    expect(before[1]?.payload).toContain('writeKey=[redacted]');
  });

  it('answers 429 with Retry-After past the per-IP limit, and dead-letters nothing for it', async () => {
    const { app, registry, t } = await start({ CDP_RATE_LIMIT_PER_IP: 5 });
    const dead = await tail<DeadLetter>(t.eventsInvalid);
    const send = (ip: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/track',
        remoteAddress: ip,
        headers: { 'content-type': 'application/json' },
        payload: { writeKey: 'not-a-key', anonymousId: 'a', event: 'E' },
      });
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await send('10.1.1.1')).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const limited = await send('10.1.1.1');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(1);
    expect(limited.json()).toMatchObject({ code: 'CDP_ERR_INGEST_RATE_LIMITED', field: 'ip' });
    // Another address is not held back.
    expect((await send('10.1.1.2')).statusCode).toBe(401);
    await sentinel(app, 'sentinel-429');
    await waitFor(() => expect(dead.some((d) => d.payload.includes('sentinel-429'))).toBe(true));
    expect(upTo(dead, 'sentinel-429').map((d) => d.code)).not.toContain(
      'CDP_ERR_INGEST_RATE_LIMITED',
    );
    expect(await registry.getSingleMetricAsString('cdp_ingest_rate_limited_total')).toContain(
      'cdp_ingest_rate_limited_total{limit="ip"} 4',
    );
  });

  it('answers 429 past the per-key limit, whatever the address', async () => {
    const { app } = await start({ CDP_RATE_LIMIT_PER_KEY: 3 });
    const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/track',
        remoteAddress: `10.2.0.${i}`,
        headers: { 'content-type': 'application/json', authorization: auth },
        payload: { anonymousId: 'a', event: 'E' },
      });
      codes.push(res.statusCode);
      if (res.statusCode === 429)
        expect(res.json()).toMatchObject({
          code: 'CDP_ERR_INGEST_RATE_LIMITED',
          field: 'writeKey',
        });
    }
    expect(codes).toEqual([200, 200, 200, 429, 429]);
  });

  it('keeps the digits of user ids sent as integers beyond 2^53', async () => {
    const { app, t } = await start();
    const raw = await tail<{ event: { userId?: string; anonymousId?: string } }>(t.eventsRaw);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json' },
      payload: `{"writeKey":"${writeKey}","batch":[{"type":"track","event":"E","userId":12345678901234567890},{"type":"track","event":"E","userId":12345678901234567891,"anonymousId":98765432109876543210},{"type":"track","event":"E","userId":42}]}`,
    });
    expect(res.statusCode).toBe(200);
    await waitFor(() => expect(raw.length).toBe(3));
    expect(raw.map((m) => [m.event.userId, m.event.anonymousId])).toEqual([
      ['12345678901234567890', undefined],
      ['12345678901234567891', '98765432109876543210'],
      ['42', undefined],
    ]);
  });
});
