/**
 * End-to-end ingest scenarios, run against the all-in-one platform on each
 * bus adapter (embedded and Kafka). Events go in through the real HTTP API,
 * with Segment's official Node client and raw requests, and are checked in
 * ClickHouse through the SQL endpoint, as a user would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { tempDir, waitFor } from '@cdp/testkit';
import { loadRunnerConfig, startPlatform, type RunningPlatform } from './platform.js';

export interface ScenarioHarness {
  readonly platform: RunningPlatform;
  readonly cleanup: () => Promise<void>;
}

/**
 * Starts the all-in-one platform in a fresh data directory on a free port,
 * with `env` on top of the test defaults; cleanup closes it and removes the
 * directory.
 */
export async function startTestPlatform(
  env: Record<string, string> = {},
): Promise<ScenarioHarness> {
  const dir = await tempDir('cdp-e2e');
  const platform = await startPlatform(
    loadRunnerConfig({
      CDP_DATA_DIR: dir.path,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      CDP_LOADER_FLUSH_MS: '250',
      ...env,
    }),
  );
  return {
    platform,
    cleanup: async () => {
      await platform.close();
      await dir.remove();
    },
  };
}

/**
 * What a scenario reaches over HTTP: the collection URL (ingest), the
 * management and data API's URL (the same one on the all-in-one runner;
 * another process in the distributed topology) and the first-start keys.
 */
export interface Endpoints {
  url: string;
  apiUrl: string;
  writeKey: string;
  admin: string;
}

/** What a scenario needs of the running all-in-one platform. */
export interface Ctx extends Endpoints {
  platform: RunningPlatform;
}

/**
 * Registers `beforeAll`/`afterAll` hooks (in the calling suite) that start a
 * platform with `start` and stop it; the returned context is filled in
 * before the first test runs.
 */
export function usePlatform(start: () => Promise<ScenarioHarness>): Ctx {
  let h: ScenarioHarness | undefined;
  const c = {} as Ctx;
  beforeAll(async () => {
    h = await start();
    const created = h.platform.credentials.created;
    if (!created) throw new Error('expected a first start that creates the default source');
    Object.assign(c, {
      url: h.platform.url,
      apiUrl: h.platform.url,
      writeKey: created.writeKey,
      admin: h.platform.credentials.adminToken,
      platform: h.platform,
    });
  });
  afterAll(async () => {
    await h?.cleanup();
  });
  return c;
}

const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** Sends a batch to the collection API with the write key; every call must be accepted. */
export async function sendBatch(
  c: Endpoints,
  batch: readonly Record<string, unknown>[],
): Promise<void> {
  const res = await fetch(`${c.url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basic(c.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch }),
  });
  const body = (await res.json()) as { rejected?: unknown[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(body.rejected ?? []).toEqual([]);
}

/** A call to the management API with the admin token; a JSON answer is parsed (else `json` is `{}`). */
export async function adminApi<T = Record<string, unknown>>(
  c: Endpoints,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T; text: string; type: string }> {
  const res = await fetch(`${c.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${c.admin}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json = {} as T;
  try {
    json = JSON.parse(text) as T;
  } catch {
    // Empty, or NDJSON: the caller reads `text`.
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
}

/** Runs read-only SQL through the data API. */
export async function sql<T = Record<string, unknown>>(
  c: Pick<Endpoints, 'apiUrl' | 'admin'>,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const res = await fetch(`${c.apiUrl}/v1/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, params }),
  });
  const body = (await res.json()) as { rows: T[] };
  if (res.status !== 200) throw new Error(`sql ${res.status}: ${JSON.stringify(body)}`);
  return body.rows;
}

async function post(
  c: Ctx,
  path: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${c.url}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers };
}

const uid = (): string => Math.random().toString(36).slice(2, 10);

export function runIngestScenarios(name: string, start: () => Promise<ScenarioHarness>): void {
  describe(`ingest end to end (${name})`, () => {
    const c = usePlatform(start);

    it('stores what @segment/analytics-node sends, with the right fields and channel', async () => {
      const run = uid();
      const analytics = new Analytics({
        writeKey: c.writeKey,
        host: c.url,
        flushAt: 20,
        flushInterval: 100,
        maxRetries: 3,
      });
      const user = `user-${run}`;
      analytics.identify({
        userId: user,
        anonymousId: `anon-${run}`,
        traits: { email: `${run}@example.com`, plan: 'pro' },
      });
      analytics.track({
        userId: user,
        event: 'Order Completed',
        properties: { revenue: 42.5, currency: 'EUR' },
        context: { campaign: { source: 'google', medium: 'cpc', name: 'winter' } },
      });
      analytics.page({
        anonymousId: `anon-${run}`,
        name: 'Home',
        properties: {
          url: 'https://shop.example/?utm_source=newsletter&utm_medium=email',
          path: '/',
        },
      });
      analytics.group({ userId: user, groupId: `org-${run}`, traits: { name: 'Acme' } });
      analytics.alias({ userId: user, previousId: `anon-${run}` });
      analytics.screen({ userId: user, name: 'Cart' });
      await analytics.closeAndFlush({ timeout: 10_000 });

      const rows = await waitFor(
        async () => {
          const r = await sql(
            c,
            'SELECT type, event, name, user_id, anonymous_id, group_id, previous_id, channel, utm_source, utm_medium, utm_campaign, properties, traits, context FROM events FINAL WHERE user_id = {u:String} OR anonymous_id = {a:String}',
            { u: user, a: `anon-${run}` },
          );
          expect(r).toHaveLength(6);
          return r;
        },
        { timeoutMs: 20_000 },
      );
      const byType = Object.fromEntries(rows.map((r) => [String(r['type']), r]));
      expect(byType['track']).toMatchObject({
        event: 'Order Completed',
        user_id: user,
        channel: 'Paid Search',
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'winter',
      });
      expect(JSON.parse(String(byType['track']?.['properties']))).toEqual({
        revenue: 42.5,
        currency: 'EUR',
      });
      expect(
        (JSON.parse(String(byType['track']?.['context'])) as { library: { name: string } }).library
          .name,
      ).toBe('@segment/analytics-node');
      expect(byType['identify']).toMatchObject({ user_id: user, anonymous_id: `anon-${run}` });
      expect(JSON.parse(String(byType['identify']?.['traits']))).toMatchObject({ plan: 'pro' });
      expect(byType['page']).toMatchObject({
        name: 'Home',
        channel: 'Email',
        utm_source: 'newsletter',
      });
      expect(byType['group']).toMatchObject({ group_id: `org-${run}` });
      expect(byType['alias']).toMatchObject({ previous_id: `anon-${run}`, user_id: user });
      expect(byType['screen']).toMatchObject({ name: 'Cart' });
    });

    it("stores what RudderStack's Node SDK sends (gzipped batches), with the right fields", async () => {
      const run = uid();
      // Unchanged client; only its data plane URL points here. It gzips its
      // JSON batches and labels them application/x-www-form-urlencoded.
      const rudder = new RudderAnalytics(c.writeKey, {
        dataPlaneUrl: c.url,
        flushAt: 3,
        flushInterval: 100,
        logLevel: 'error',
      });
      const user = `rs-user-${run}`;
      const anon = `rs-anon-${run}`;
      rudder.identify({ userId: user, anonymousId: anon, traits: { plan: 'team' } });
      rudder.track({
        userId: user,
        event: 'Order Completed',
        properties: { revenue: 19.99 },
        context: { campaign: { source: 'newsletter', medium: 'email', name: 'june' } },
      });
      rudder.page({ anonymousId: anon, name: 'Pricing', properties: { path: '/pricing' } });
      rudder.group({ userId: user, groupId: `rs-org-${run}`, traits: { name: 'Initech' } });
      rudder.alias({ userId: user, previousId: anon });
      rudder.screen({ userId: user, name: 'Settings' });
      await rudder.flush();

      const rows = await waitFor(
        async () => {
          const r = await sql(
            c,
            'SELECT type, event, name, user_id, anonymous_id, group_id, previous_id, channel, utm_source, properties, traits, context FROM events FINAL WHERE user_id = {u:String} OR anonymous_id = {a:String}',
            { u: user, a: anon },
          );
          expect(r).toHaveLength(6);
          return r;
        },
        { timeoutMs: 20_000 },
      );
      const byType = Object.fromEntries(rows.map((r) => [String(r['type']), r]));
      expect(byType['track']).toMatchObject({
        event: 'Order Completed',
        user_id: user,
        channel: 'Email',
        utm_source: 'newsletter',
      });
      expect(JSON.parse(String(byType['track']?.['properties']))).toEqual({ revenue: 19.99 });
      expect(
        (JSON.parse(String(byType['track']?.['context'])) as { library: { name: string } }).library
          .name,
      ).toBe('analytics-node');
      expect(byType['identify']).toMatchObject({ user_id: user, anonymous_id: anon });
      expect(JSON.parse(String(byType['identify']?.['traits']))).toMatchObject({ plan: 'team' });
      expect(byType['page']).toMatchObject({ name: 'Pricing', anonymous_id: anon });
      expect(byType['group']).toMatchObject({ group_id: `rs-org-${run}` });
      expect(byType['alias']).toMatchObject({ previous_id: anon, user_id: user });
      expect(byType['screen']).toMatchObject({ name: 'Settings' });
    });

    it('accepts raw HTTP: text/plain, Basic auth, body writeKey, short paths, batch envelopes', async () => {
      const run = uid();
      const json = { 'content-type': 'application/json' };
      const r1 = await post(
        c,
        '/v1/t',
        JSON.stringify({
          writeKey: c.writeKey,
          anonymousId: `a-${run}`,
          event: 'Short Path',
          messageId: `m1-${run}`,
        }),
        { 'content-type': 'text/plain' },
      );
      expect(r1).toMatchObject({ status: 200, json: { success: true } });
      const r2 = await post(
        c,
        '/v1/track',
        JSON.stringify({
          anonymousId: `a-${run}`,
          event: 'Basic Auth',
          messageId: `m2-${run}`,
          context: { page: { referrer: 'https://www.bing.com/search?q=shoes' } },
        }),
        { ...json, authorization: basic(c.writeKey) },
      );
      expect(r2.status).toBe(200);
      const r3 = await post(
        c,
        '/v1/b',
        JSON.stringify({
          writeKey: c.writeKey,
          context: { campaign: { source: 'facebook', medium: 'paid_social' } },
          batch: [
            { type: 'track', anonymousId: `a-${run}`, event: 'In Batch', messageId: `m3-${run}` },
            {
              type: 'identify',
              anonymousId: `a-${run}`,
              userId: `u-${run}`,
              traits: { x: 1 },
              messageId: `m4-${run}`,
            },
            { type: 'track', anonymousId: `a-${run}` },
          ],
        }),
        { 'content-type': 'text/plain' },
      );
      expect(r3.status).toBe(200);
      expect(r3.json).toMatchObject({
        success: true,
        accepted: 2,
        rejected: [{ index: 2, code: 'CDP_ERR_EVENT_MISSING_FIELD', field: 'event' }],
      });

      const rows = await waitFor(
        async () => {
          const r = await sql(
            c,
            'SELECT message_id, event, channel FROM events FINAL WHERE anonymous_id = {a:String} ORDER BY message_id',
            { a: `a-${run}` },
          );
          expect(r).toHaveLength(4);
          return r;
        },
        { timeoutMs: 20_000 },
      );
      expect(rows).toEqual([
        { message_id: `m1-${run}`, event: 'Short Path', channel: 'Direct' },
        { message_id: `m2-${run}`, event: 'Basic Auth', channel: 'Organic Search' },
        { message_id: `m3-${run}`, event: 'In Batch', channel: 'Paid Social' },
        { message_id: `m4-${run}`, event: '', channel: 'Paid Social' },
      ]);
      const dead = await waitFor(
        async () => {
          const r = await sql(
            c,
            'SELECT code, field, payload FROM events_invalid WHERE payload LIKE {p:String}',
            { p: `%a-${run}%` },
          );
          expect(r.length).toBeGreaterThanOrEqual(1);
          return r;
        },
        { timeoutMs: 20_000 },
      );
      expect(dead[0]).toMatchObject({ code: 'CDP_ERR_EVENT_MISSING_FIELD', field: 'event' });
    });

    it('records the tracking pixel and always answers an uncached GIF', async () => {
      const run = uid();
      const ok = await fetch(
        `${c.url}/v1/pixel.gif?writeKey=${c.writeKey}&event=Email%20Opened&userId=u-${run}&p.campaign=nov&utm_source=newsletter&utm_medium=email`,
      );
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('image/gif');
      expect(ok.headers.get('cache-control')).toContain('no-store');
      expect(
        Buffer.from(await ok.arrayBuffer())
          .subarray(0, 6)
          .toString(),
      ).toBe('GIF89a');
      const bad = await fetch(
        `${c.url}/v1/pixel.gif?writeKey=wk_nope&event=Email%20Opened&userId=u-${run}`,
      );
      expect(bad.status).toBe(200);
      expect(bad.headers.get('content-type')).toBe('image/gif');
      const noId = await fetch(`${c.url}/v1/pixel.gif?writeKey=${c.writeKey}&event=NoId-${run}`);
      expect(noId.status).toBe(200);

      const rows = await waitFor(
        async () => {
          const r = await sql(
            c,
            'SELECT event, channel, properties FROM events FINAL WHERE user_id = {u:String}',
            { u: `u-${run}` },
          );
          expect(r).toHaveLength(1);
          return r;
        },
        { timeoutMs: 20_000 },
      );
      expect(rows[0]).toMatchObject({ event: 'Email Opened', channel: 'Email' });
      expect(JSON.parse(String(rows[0]?.['properties']))).toEqual({ campaign: 'nov' });
      await waitFor(
        async () => {
          const r = await sql(
            c,
            'SELECT code FROM events_invalid WHERE payload LIKE {p:String} ORDER BY code',
            { p: `%${run}%` },
          );
          expect(r.map((x) => x['code'])).toEqual([
            'CDP_ERR_EVENT_MISSING_ID',
            'CDP_ERR_INGEST_AUTH_INVALID',
          ]);
        },
        { timeoutMs: 20_000 },
      );
    });

    it('redirects clicks only to allow-listed hosts and records them', async () => {
      const run = uid();
      const src = await fetch(`${c.url}/v1/sources`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `mail-${run}`,
          redirectAllowlist: ['shop.example', '*.brand.example'],
        }),
      });
      expect(src.status).toBe(201);
      const { writeKey } = (await src.json()) as { writeKey: string };
      const target =
        'https://shop.example/p/1?utm_source=newsletter&utm_medium=email&utm_campaign=nov';
      const ok = await fetch(
        `${c.url}/v1/r?writeKey=${writeKey}&userId=u-${run}&u=${encodeURIComponent(target)}`,
        { redirect: 'manual' },
      );
      expect(ok.status).toBe(302);
      expect(ok.headers.get('location')).toBe(target);
      for (const evil of [
        'https://evil.example/',
        'https://shop.example.evil.example/',
        'javascript:alert(1)',
        '//evil.example',
        'https://brand.example/',
      ]) {
        const r = await fetch(
          `${c.url}/v1/r?writeKey=${writeKey}&userId=u-${run}&u=${encodeURIComponent(evil)}`,
          { redirect: 'manual' },
        );
        expect(r.status, evil).toBe(400);
        expect(r.headers.get('location')).toBeNull();
      }
      const rows = await waitFor(
        async () => {
          const r = await sql(
            c,
            'SELECT event, channel, utm_campaign, properties FROM events FINAL WHERE user_id = {u:String}',
            { u: `u-${run}` },
          );
          expect(r).toHaveLength(1);
          return r;
        },
        { timeoutMs: 20_000 },
      );
      expect(rows[0]).toMatchObject({
        event: 'Link Clicked',
        channel: 'Email',
        utm_campaign: 'nov',
      });
      expect(JSON.parse(String(rows[0]?.['properties']))).toEqual({ url: target });
    });

    it('rejects bad input with a code and field, keeps serving, and dead-letters it', async () => {
      const run = uid();
      const auth = { authorization: basic(c.writeKey) };
      const json = { ...auth, 'content-type': 'application/json' };
      let deep: Record<string, unknown> = {};
      const root = deep;
      for (let i = 0; i < 50; i++) deep = deep['n'] = {};
      const cases: {
        name: string;
        path: string;
        body: string | Buffer;
        headers: Record<string, string>;
        status: number;
        code: string;
        field?: string;
      }[] = [
        {
          name: 'malformed JSON',
          path: '/v1/track',
          body: `{"event": "x", "userId": "${run}"`,
          headers: json,
          status: 400,
          code: 'CDP_ERR_INGEST_MALFORMED_JSON',
          field: 'body',
        },
        {
          name: 'wrong content type',
          path: '/v1/track',
          body: `event=x&userId=${run}`,
          headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
          status: 415,
          code: 'CDP_ERR_INGEST_CONTENT_TYPE',
        },
        {
          name: 'unsupported content encoding',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 'x' }),
          headers: { ...json, 'content-encoding': 'br' },
          status: 415,
          code: 'CDP_ERR_INGEST_CONTENT_ENCODING',
          field: 'content-encoding',
        },
        {
          name: 'corrupt gzip body',
          path: '/v1/batch',
          body: Buffer.from('not gzip at all'),
          headers: { ...json, 'content-encoding': 'gzip' },
          status: 400,
          code: 'CDP_ERR_INGEST_CONTENT_ENCODING',
          field: 'content-encoding',
        },
        {
          name: 'oversize event',
          path: '/v1/track',
          body: JSON.stringify({
            userId: run,
            event: 'big',
            properties: { s: 'x'.repeat(40_000) },
          }),
          headers: json,
          status: 413,
          code: 'CDP_ERR_INGEST_EVENT_TOO_LARGE',
        },
        {
          name: 'oversize batch',
          path: '/v1/batch',
          body: JSON.stringify({
            batch: Array.from({ length: 30 }, () => ({
              type: 'track',
              userId: run,
              event: 'e',
              properties: { s: 'x'.repeat(20_000) },
            })),
          }),
          headers: json,
          status: 413,
          code: 'CDP_ERR_INGEST_BODY_TOO_LARGE',
        },
        {
          name: 'too many in batch',
          path: '/v1/batch',
          body: JSON.stringify({
            batch: Array.from({ length: 2501 }, () => ({ type: 'track', userId: run, event: 'e' })),
          }),
          headers: json,
          status: 413,
          code: 'CDP_ERR_INGEST_BATCH_TOO_MANY',
          field: 'batch',
        },
        {
          name: 'empty batch',
          path: '/v1/batch',
          body: JSON.stringify({ batch: [] }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_INGEST_BATCH_EMPTY',
          field: 'batch',
        },
        {
          name: 'deep nesting',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 'deep', properties: root }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_INGEST_TOO_DEEP',
        },
        {
          name: 'invalid UTF-8',
          path: '/v1/track',
          body: Buffer.concat([
            Buffer.from(`{"userId":"${run}","event":"`),
            Buffer.from([0xc3, 0x28]),
            Buffer.from('"}'),
          ]),
          headers: json,
          status: 400,
          code: 'CDP_ERR_INGEST_INVALID_UTF8',
        },
        {
          name: 'missing ids',
          path: '/v1/track',
          body: JSON.stringify({ event: `noid-${run}` }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_MISSING_ID',
          field: 'userId',
        },
        {
          name: 'unknown write key',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 'e' }),
          headers: { 'content-type': 'application/json', authorization: basic('wk_unknown') },
          status: 401,
          code: 'CDP_ERR_INGEST_AUTH_INVALID',
          field: 'writeKey',
        },
        {
          name: 'missing write key',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 'e' }),
          headers: { 'content-type': 'application/json' },
          status: 401,
          code: 'CDP_ERR_INGEST_AUTH_MISSING',
          field: 'writeKey',
        },
        {
          name: 'event not a string',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 5 }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'event',
        },
        {
          name: 'userId an object',
          path: '/v1/identify',
          body: JSON.stringify({ userId: { id: run } }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'userId',
        },
        {
          name: 'anonymousId an array',
          path: '/v1/page',
          body: JSON.stringify({ anonymousId: [run] }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'anonymousId',
        },
        {
          name: 'properties a string',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 'e', properties: 'x' }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'properties',
        },
        {
          name: 'traits an array',
          path: '/v1/identify',
          body: JSON.stringify({ userId: run, traits: [] }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'traits',
        },
        {
          name: 'context a number',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 'e', context: 1 }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'context',
        },
        {
          name: 'timestamp a boolean',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 'e', timestamp: true }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'timestamp',
        },
        {
          name: 'messageId a number',
          path: '/v1/track',
          body: JSON.stringify({ userId: run, event: 'e', messageId: 1 }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'messageId',
        },
        {
          name: 'groupId missing',
          path: '/v1/group',
          body: JSON.stringify({ userId: run }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_MISSING_FIELD',
          field: 'groupId',
        },
        {
          name: 'previousId missing',
          path: '/v1/alias',
          body: JSON.stringify({ userId: run }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_MISSING_FIELD',
          field: 'previousId',
        },
        {
          name: 'context.page a string',
          path: '/v1/page',
          body: JSON.stringify({ userId: run, context: { page: 'x' } }),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'context.page',
        },
        {
          name: 'body an array',
          path: '/v1/track',
          body: JSON.stringify([{ userId: run }]),
          headers: json,
          status: 400,
          code: 'CDP_ERR_EVENT_INVALID_TYPE',
          field: 'body',
        },
      ];
      for (const k of cases) {
        const r = await post(c, k.path, k.body, k.headers);
        expect({ name: k.name, status: r.status, code: r.json['code'] }).toEqual({
          name: k.name,
          status: k.status,
          code: k.code,
        });
        if (k.field !== undefined) expect(r.json['field'], k.name).toBe(k.field);
        expect(
          typeof r.json['message'] === 'string' ? r.json['message'].length : 0,
          k.name,
        ).toBeGreaterThan(5);
      }
      // Still serving.
      const after = await post(
        c,
        '/v1/track',
        JSON.stringify({ userId: `ok-${run}`, event: 'After Bad Input' }),
        json,
      );
      expect(after.status).toBe(200);
      const dead = await waitFor(
        async () => {
          const r = await sql<{ code: string }>(
            c,
            'SELECT DISTINCT code FROM events_invalid WHERE received_at > now() - INTERVAL 5 MINUTE',
          );
          const codes = new Set(r.map((x) => x.code));
          for (const k of cases) expect(codes, k.name).toContain(k.code);
          return codes;
        },
        { timeoutMs: 20_000 },
      );
      expect(dead.size).toBeGreaterThan(10);
    });

    it('guards the management API with the admin token, never a write key, and keeps SQL read-only', async () => {
      const q = JSON.stringify({ query: 'SELECT 1 AS one' });
      const noAuth = await post(c, '/v1/sql', q, { 'content-type': 'application/json' });
      expect(noAuth).toMatchObject({ status: 401, json: { code: 'CDP_ERR_API_UNAUTHORIZED' } });
      const withWriteKey = await post(c, '/v1/sql', q, {
        'content-type': 'application/json',
        authorization: basic(c.writeKey),
      });
      expect(withWriteKey.status).toBe(401);
      const bearerWriteKey = await post(c, '/v1/sql', q, {
        'content-type': 'application/json',
        authorization: `Bearer ${c.writeKey}`,
      });
      expect(bearerWriteKey.status).toBe(401);
      expect(await sql(c, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      for (const bad of [
        "INSERT INTO events (message_id) VALUES ('x')",
        'DROP TABLE events',
        'SELECT 1; DROP TABLE events',
        "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      ]) {
        const r = await post(c, '/v1/sql', JSON.stringify({ query: bad }), {
          'content-type': 'application/json',
          authorization: `Bearer ${c.admin}`,
        });
        expect(r.status, bad).toBeGreaterThanOrEqual(400);
        expect(String(r.json['code']), bad).toMatch(/^CDP_ERR_WAREHOUSE_/);
      }
      expect(
        (
          await sql(
            c,
            "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'events'",
          )
        )[0],
      ).toEqual({ n: 1 });
      // Writes still work for the platform after read-only queries.
      const after = await post(
        c,
        '/v1/track',
        JSON.stringify({ userId: `after-ro-${uid()}`, event: 'x' }),
        { 'content-type': 'application/json', authorization: basic(c.writeKey) },
      );
      expect(after.status).toBe(200);
    });

    it('manages sources: create, list, update origins, rotate keys', async () => {
      const auth = { authorization: `Bearer ${c.admin}`, 'content-type': 'application/json' };
      const created = await post(
        c,
        '/v1/sources',
        JSON.stringify({ name: 'Web shop', allowedOrigins: ['https://shop.example'] }),
        auth,
      );
      expect(created.status).toBe(201);
      const id = String((created.json['source'] as Record<string, unknown>)['id']);
      const key1 = String(created.json['writeKey']);
      expect(JSON.stringify(created.json)).not.toContain('writeKeyHash');
      const bad = await post(
        c,
        '/v1/sources',
        JSON.stringify({ name: 'x', allowedOrigins: ['not an origin'] }),
        auth,
      );
      expect(bad).toMatchObject({
        status: 400,
        json: { code: 'CDP_ERR_API_BAD_REQUEST', field: 'allowedOrigins[0]' },
      });

      // CORS: preflight and real request from an allowed origin; refused from another.
      const pre = await fetch(`${c.url}/v1/track`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(Number(pre.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      const good = await post(
        c,
        '/v1/track',
        JSON.stringify({ writeKey: key1, userId: 'cors', event: 'e' }),
        { 'content-type': 'text/plain', origin: 'https://shop.example' },
      );
      expect(good.status).toBe(200);
      expect(good.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      const refused = await post(
        c,
        '/v1/track',
        JSON.stringify({ writeKey: key1, userId: 'cors', event: 'e' }),
        { 'content-type': 'text/plain', origin: 'https://evil.example' },
      );
      expect(refused).toMatchObject({
        status: 403,
        json: { code: 'CDP_ERR_INGEST_ORIGIN_NOT_ALLOWED', field: 'origin' },
      });

      const rotated = await post(c, `/v1/sources/${id}/rotate-key`, '', {
        authorization: `Bearer ${c.admin}`,
      });
      expect(rotated.status).toBe(200);
      const key2 = String(rotated.json['writeKey']);
      expect(key2).not.toBe(key1);
      expect(
        (
          await post(c, '/v1/track', JSON.stringify({ writeKey: key1, userId: 'r', event: 'e' }), {
            'content-type': 'application/json',
          })
        ).status,
      ).toBe(401);
      expect(
        (
          await post(c, '/v1/track', JSON.stringify({ writeKey: key2, userId: 'r', event: 'e' }), {
            'content-type': 'application/json',
          })
        ).status,
      ).toBe(200);

      const list = await fetch(`${c.url}/v1/sources`, {
        headers: { authorization: `Bearer ${c.admin}` },
      });
      const names = ((await list.json()) as { sources: { name: string }[] }).sources.map(
        (s) => s.name,
      );
      expect(names).toContain('Web shop');
      expect(names).toContain('Default source');
    });

    it('serves health, readiness and Prometheus metrics', async () => {
      // An event of its own, for the counters to count once it is loaded.
      const sent = await post(
        c,
        '/v1/track',
        JSON.stringify({ userId: `metrics-${uid()}`, event: 'Counted' }),
        { 'content-type': 'application/json', authorization: basic(c.writeKey) },
      );
      expect(sent.status).toBe(200);
      expect((await fetch(`${c.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${c.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ready',
        checks: { bus: { status: 'ok' }, warehouse: { status: 'ok' } },
      });
      await waitFor(
        async () => {
          const metrics = await (await fetch(`${c.url}/metrics`)).text();
          expect(metrics).toMatch(/cdp_ingest_events_total\{outcome="accepted"\} [1-9]/);
          expect(metrics).toMatch(/cdp_loader_rows_total\{table="events"\} [1-9]/);
          expect(metrics).toContain('cdp_ingest_dead_letters_total');
        },
        { timeoutMs: 20_000, what: 'the event to be counted as accepted and loaded' },
      );
    });
    // How fast an event becomes queryable is a figure, not a test: bench/queryable.mjs.
  });
}

/** Waits until `n` events whose `properties.run` is `run` are loaded. */
export async function waitForRunEvents(c: Endpoints, run: string, n: number): Promise<void> {
  await waitFor(
    async () =>
      expect(
        await sql(
          c,
          `SELECT 1 FROM events WHERE JSONExtractString(properties, 'run') = {r:String}`,
          {
            r: run,
          },
        ),
      ).toHaveLength(n),
    { timeoutMs: 20_000 },
  );
}
