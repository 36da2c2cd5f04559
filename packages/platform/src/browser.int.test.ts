/**
 * Real browser, real clients: Debian's Chromium (driven by playwright-core)
 * loads pages from a "shop" on another origin, which send events to the
 * all-in-one platform with our browser SDK and with Segment's own browser
 * library; an HTML email opens the tracking pixel and follows a click
 * redirect. Every check reads ClickHouse through the SQL endpoint, as a user
 * would.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserUnavailableReason, launchBrowser, waitFor } from '@cdp/testkit';
import { snippet } from '@cdp/sdk-browser/snippet';
import { startTestPlatform, sql, type ScenarioHarness } from './e2e-scenarios.js';
import { startTestSite, type TestSite } from './test-site.js';

const unavailable = browserUnavailableReason();
const require = createRequire(import.meta.url);
const ajsUmdDir = join(
  dirname(require.resolve('@segment/analytics-next/package.json')),
  'dist',
  'umd',
);

interface Api {
  url: string;
  admin: string;
}

async function api<T>(c: Api, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${c.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${c.admin}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T;
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

type Row = Record<string, unknown>;
const uid = (): string => Math.random().toString(36).slice(2, 10);
const ctxOf = (r: Row | undefined): Record<string, unknown> =>
  JSON.parse(typeof r?.['context'] === 'string' ? r['context'] : '{}') as Record<string, unknown>;

describe.skipIf(unavailable !== undefined)('in a real browser (Chromium)', () => {
  let h: ScenarioHarness;
  let c: Api & { sql: (q: string, p?: Record<string, unknown>) => Promise<Row[]> };
  let shop: TestSite;
  let other: TestSite;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** A source that allows the shop's origin, and one that allows nothing the tests use. */
  let shopKey: string;
  let strictKey: string;

  beforeAll(async () => {
    h = await startTestPlatform();
    const admin = h.platform.credentials.adminToken;
    const base = { url: h.platform.url, apiUrl: h.platform.url, admin };
    c = { ...base, sql: (q, p = {}) => sql(base, q, p) };
    shop = await startTestSite('127.0.0.1');
    other = await startTestSite('localhost');
    shop.mount('/vendor/ajs/', ajsUmdDir);
    const created = await api<{ writeKey: string }>(c, 'POST', '/v1/sources', {
      name: 'shop',
      allowedOrigins: [shop.origin],
      redirectAllowlist: ['localhost'],
    });
    shopKey = created.writeKey;
    strictKey = (
      await api<{ writeKey: string }>(c, 'POST', '/v1/sources', {
        name: 'strict',
        allowedOrigins: ['https://only.example'],
      })
    ).writeKey;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.close();
    await other?.close();
    await h?.cleanup();
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext();
    page = await context.newPage();
  });

  /** A shop page that loads our SDK with the snippet. */
  function shopPage(path: string, key: string, body: string, options = ''): void {
    shop.page(
      path,
      `<!doctype html><html><head><title>${path}</title><script>${snippet({
        host: h.platform.url,
        writeKey: key,
      })}</script>${options}</head><body>${body}</body></html>`,
    );
  }

  /** Waits until `query` returns `n` rows, then returns them. */
  async function rowsOf(query: string, params: Record<string, unknown>, n: number): Promise<Row[]> {
    return waitFor(
      async () => {
        const r = await c.sql(query, params);
        expect(r).toHaveLength(n);
        return r;
      },
      { timeoutMs: 20_000 },
    );
  }

  it('serves the SDK script at a path ad blockers do not match, gzipped and revalidated', async () => {
    const res = await fetch(`${h.platform.url}/s/c.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const body = await res.text();
    expect(body.length).toBeGreaterThan(1000);
    const etag = res.headers.get('etag') ?? '';
    const again = await fetch(`${h.platform.url}/s/c.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(/analytics|track|event/i.test('/s/c.js')).toBe(false);
  });

  it('a shop visit: UTM landing, three page views, Product Added, and a track right before leaving arrive exactly once', async () => {
    const run = uid();
    const shopPath = (p: string): string => `/shop-${run}/${p}`;
    shopPage(shopPath('landing'), key(), '<a id="next" href="p2">next</a>');
    shopPage(shopPath('p2'), key(), '<a id="next" href="p3">next</a>');
    shopPage(
      shopPath('p3'),
      key(),
      `<button id="add" onclick="cdp.track('Product Added', {sku: 'sku-1', price: 30})">add</button>
       <a id="leave" href="${other.origin}/bye-${run}"
          onclick="cdp.track('Checkout Started', {step: 1}); location.href = this.href; return false">pay</a>`,
    );
    other.page(`/bye-${run}`, '<!doctype html><title>bye</title><p>elsewhere</p>');
    function key(): string {
      return shopKey;
    }

    await page.goto(
      `${shop.origin}${shopPath('landing')}?utm_source=newsletter&utm_medium=email&utm_campaign=${run}&fbclid=fb-${run}`,
    );
    await page.waitForFunction(
      () => typeof (globalThis as { cdp?: { sessionId?: unknown } }).cdp?.sessionId === 'function',
    );
    await Promise.all([page.waitForURL(`**${shopPath('p2')}`), page.click('#next')]);
    await Promise.all([page.waitForURL(`**${shopPath('p3')}`), page.click('#next')]);
    await page.waitForFunction(
      () => typeof (globalThis as { cdp?: { sessionId?: unknown } }).cdp?.sessionId === 'function',
    );
    await page.click('#add');
    // Leave at once: the event must survive the unload (keepalive / beacon).
    await Promise.all([page.waitForURL(`${other.origin}/bye-${run}`), page.click('#leave')]);

    const q = `SELECT message_id, type, event, anonymous_id, channel, utm_campaign, page_path, context
               FROM events FINAL WHERE page_url LIKE {like:String} ORDER BY timestamp`;
    const rows = await rowsOf(q, { like: `%/shop-${run}/%` }, 5);
    // Nothing arrives twice, even before merges (raw rows = distinct message ids).
    const raw = await c.sql(
      'SELECT count() AS n, uniqExact(message_id) AS u FROM events WHERE page_url LIKE {like:String}',
      { like: `%/shop-${run}/%` },
    );
    expect(raw[0]).toEqual({ n: 5, u: 5 });
    expect(rows.map((r) => `${String(r['type'])}:${String(r['event'])}`)).toEqual([
      'page:',
      'page:',
      'page:',
      'track:Product Added',
      'track:Checkout Started',
    ]);
    expect(rows.map((r) => r['page_path'])).toEqual([
      shopPath('landing'),
      shopPath('p2'),
      shopPath('p3'),
      shopPath('p3'),
      shopPath('p3'),
    ]);
    expect(new Set(rows.map((r) => r['anonymous_id'])).size).toBe(1);
    // The landing's campaign holds for the whole session: every event is Email.
    expect(rows.map((r) => r['channel'])).toEqual(Array(5).fill('Email'));
    expect(rows.map((r) => r['utm_campaign'])).toEqual(Array(5).fill(run));
    const contexts = rows.map(ctxOf);
    expect(new Set(contexts.map((x) => x['sessionId'])).size).toBe(1);
    expect(typeof contexts[0]?.['sessionId']).toBe('number');
    expect(contexts[0]?.['campaign']).toMatchObject({ source: 'newsletter', fbclid: `fb-${run}` });
    expect(contexts[0]?.['library']).toMatchObject({ name: '@cdp/sdk-browser' });
    expect(contexts[0]).toHaveProperty('timezone');
    expect(contexts[0]).toHaveProperty('screen');
  });

  it('events queued while offline arrive when the network is back, and on the next visit after the tab closed offline', async () => {
    const run = uid();
    shopPage(`/off-${run}`, shopKey, 'offline test', '');
    await page.goto(`${shop.origin}/off-${run}`);
    await page.waitForFunction(
      () => typeof (globalThis as { cdp?: { sessionId?: unknown } }).cdp?.sessionId === 'function',
    );
    const q = `SELECT event FROM events FINAL WHERE type = 'track' AND page_url LIKE {like:String} ORDER BY event`;
    const like = { like: `%/off-${run}%` };

    await context.setOffline(true);
    await page.evaluate(() => {
      const w = globalThis as unknown as { cdp: { track(e: string): void } };
      w.cdp.track('Offline One');
      w.cdp.track('Offline Two');
    });
    // Kept in the SDK's stored queue while the network is down (where
    // nothing could arrive anyway).
    const stored = await page.evaluate(() => {
      const ls = (
        globalThis as unknown as {
          localStorage: {
            length: number;
            key(i: number): string | null;
            getItem(k: string): string | null;
          };
        }
      ).localStorage;
      const out: string[] = [];
      for (let i = 0; i < ls.length; i++) {
        const k = ls.key(i) ?? '';
        if (!k.startsWith('cdp_q.')) continue;
        const rec = JSON.parse(ls.getItem(k) ?? '{}') as { q?: { event?: string }[] };
        for (const e of rec.q ?? []) if (e.event) out.push(e.event);
      }
      return out;
    });
    expect(stored).toEqual(['Offline One', 'Offline Two']);
    expect(await c.sql(q, like)).toEqual([]);
    await context.setOffline(false);
    await rowsOf(q, like, 2);

    // Offline again, and the tab closes before the network returns.
    await context.setOffline(true);
    await page.evaluate(() =>
      (globalThis as unknown as { cdp: { track(e: string): void } }).cdp.track('Offline Three'),
    );
    const next = await context.newPage();
    // pagehide runs (the SDK keeps the events: it is offline); setOffline
    // waits until the page is really gone, or it can trip on the closing page.
    const closed = page.waitForEvent('close');
    await page.close({ runBeforeUnload: true });
    await closed;
    await context.setOffline(false);
    page = next;
    await page.goto(`${shop.origin}/off-${run}?again=1`);
    const rows = await rowsOf(q, like, 3);
    expect(rows.map((r) => r['event'])).toEqual(['Offline One', 'Offline Three', 'Offline Two']);
    const raw = await c.sql(
      "SELECT count() AS n FROM events WHERE type = 'track' AND page_url LIKE {like:String}",
      like,
    );
    expect(raw[0]).toEqual({ n: 3 });
  });

  it("works from another origin on the source's allowed origins, and is refused from any other", async () => {
    const run = uid();
    // Allowed: the shop's origin with the shop's key (a cross-origin request to ingest).
    shopPage(`/cors-ok-${run}`, shopKey, '');
    // Refused: the same key from an origin the source does not list...
    other.page(
      `/cors-no-${run}`,
      `<!doctype html><html><head><script>${snippet({ host: h.platform.url, writeKey: shopKey })}</script></head><body></body></html>`,
    );
    // ...and a source that lists only another origin.
    shopPage(`/cors-strict-${run}`, strictKey, '');
    for (const url of [
      `${shop.origin}/cors-ok-${run}`,
      `${other.origin}/cors-no-${run}`,
      `${shop.origin}/cors-strict-${run}`,
    ]) {
      // A refused simple request is an opaque CORS failure to the page; the
      // server's answer is checked through the dead letters below.
      const sent = page.waitForRequest((r) => r.url().includes('/v1/b'));
      await page.goto(url);
      await sent;
    }
    await rowsOf(
      'SELECT page_path FROM events FINAL WHERE page_url LIKE {like:String}',
      { like: `%/cors-%-${run}%` },
      1,
    ).then((r) => expect(r[0]?.['page_path']).toBe(`/cors-ok-${run}`));
    const dead = await rowsOf(
      `SELECT code, field FROM events_invalid WHERE payload LIKE {like:String} ORDER BY received_at`,
      { like: `%/cors-%-${run}%` },
      2,
    );
    expect(dead).toEqual([
      { code: 'CDP_ERR_INGEST_ORIGIN_NOT_ALLOWED', field: 'origin' },
      { code: 'CDP_ERR_INGEST_ORIGIN_NOT_ALLOWED', field: 'origin' },
    ]);
  });

  it('identify after anonymous browsing links the anonymous id to the user, through OneID', async () => {
    const run = uid();
    shopPage(`/login-${run}`, shopKey, '');
    await page.goto(`${shop.origin}/login-${run}`);
    await page.waitForFunction(
      () => typeof (globalThis as { cdp?: { sessionId?: unknown } }).cdp?.sessionId === 'function',
    );
    await page.evaluate((run) => {
      const w = globalThis as unknown as {
        cdp: {
          track(e: string): void;
          identify(u: string, t: Record<string, unknown>): void;
        };
      };
      w.cdp.track('Browsed');
      w.cdp.identify(`user-${run}`, { email: `${run}@example.com` });
      w.cdp.track('After Login');
    }, run);
    // Calls made in the same millisecond share a timestamp: those keep the
    // order they were made in.
    const rows = await rowsOf(
      `SELECT type, event, anonymous_id, user_id FROM events FINAL WHERE page_url LIKE {like:String}
       ORDER BY timestamp, multiIf(type = 'page', 0, event = 'Browsed', 1, type = 'identify', 2, 3)`,
      { like: `%/login-${run}%` },
      4,
    );
    expect(rows.map((r) => [r['type'], r['event'], r['user_id']])).toEqual([
      ['page', '', ''],
      ['track', 'Browsed', ''],
      ['identify', '', `user-${run}`],
      ['track', 'After Login', `user-${run}`],
    ]);
    expect(new Set(rows.map((r) => r['anonymous_id'])).size).toBe(1);
    // OneID: the anonymous browsing and the logged-in events are one person.
    await waitFor(
      async () => {
        const people = await c.sql(
          'SELECT uniqExact(person_id) AS n, any(person_id) AS p FROM events_by_person WHERE page_url LIKE {like:String}',
          { like: `%/login-${run}%` },
        );
        expect(people[0]?.['n']).toBe(1);
        const looked = await api<{ oneId: string }>(
          c,
          'GET',
          `/v1/persons/lookup?type=user_id&value=${encodeURIComponent(`user-${run}`)}`,
        );
        expect(looked.oneId).toBe(people[0]?.['p']);
      },
      { timeoutMs: 20_000 },
    );
  });

  it("stores Segment's own browser library (analytics-next) events, single and batched", async () => {
    const run = uid();
    shop.page(
      `/ajs-${run}`,
      `<!doctype html><html><head><title>AJS</title><script src="/vendor/ajs/index.js"></script></head><body>ajs</body></html>`,
    );
    await page.goto(
      `${shop.origin}/ajs-${run}?utm_source=google&utm_medium=cpc&utm_campaign=${run}`,
    );
    await page.evaluate(
      async ({ key, apiHost, run }) => {
        const w = globalThis as unknown as {
          AnalyticsNext: {
            AnalyticsBrowser: {
              load(
                settings: unknown,
                options?: unknown,
              ): Promise<[Record<string, (...a: unknown[]) => Promise<unknown>>]>;
            };
          };
        };
        const settings = (strategy: unknown) => ({
          writeKey: key,
          cdnSettings: {
            integrations: {
              'Segment.io': {
                apiKey: key,
                apiHost,
                protocol: 'http',
                ...(strategy ? { deliveryStrategy: strategy } : {}),
              },
            },
          },
        });
        const [a] = await w.AnalyticsNext.AnalyticsBrowser.load(settings(undefined));
        await a['page']!();
        await a['track']!('Product Viewed', { sku: `sku-${run}`, price: 12 });
        await a['identify']!(`ajs-user-${run}`, { plan: 'basic' });
        await a['group']!(`ajs-org-${run}`, { name: 'Org' });
        await a['alias']!(`ajs-user-${run}`, `ajs-prev-${run}`);
        // The batching strategy posts to /v1/b.
        const [b] = await w.AnalyticsNext.AnalyticsBrowser.load(
          settings({ strategy: 'batching', config: { size: 2, timeout: 200 } }),
          { disableClientPersistence: true },
        );
        await Promise.all([
          b['track']!('Batched One', { run }),
          b['track']!('Batched Two', { run }),
        ]);
      },
      { key: shopKey, apiHost: `${new URL(h.platform.url).host}/v1`, run },
    );

    const rows = await waitFor(
      async () => {
        const r = await c.sql(
          `SELECT type, event, user_id, anonymous_id, group_id, previous_id, channel, utm_campaign, properties, context
           FROM events FINAL WHERE utm_campaign = {run:String} OR properties LIKE {like:String} OR user_id = {u:String} OR previous_id = {p:String}`,
          { run, like: `%${run}%`, u: `ajs-user-${run}`, p: `ajs-prev-${run}` },
        );
        expect(r.length).toBeGreaterThanOrEqual(7);
        return r;
      },
      { timeoutMs: 20_000 },
    );
    const by = (t: string, e?: string): Row | undefined =>
      rows.find((r) => r['type'] === t && (e === undefined || r['event'] === e));
    expect(by('page')).toMatchObject({ channel: 'Paid Search', utm_campaign: run });
    expect(by('track', 'Product Viewed')).toMatchObject({ channel: 'Paid Search' });
    expect(JSON.parse(String(by('track', 'Product Viewed')?.['properties']))).toEqual({
      sku: `sku-${run}`,
      price: 12,
    });
    expect(by('identify')).toMatchObject({ user_id: `ajs-user-${run}` });
    expect(by('group')).toMatchObject({ group_id: `ajs-org-${run}` });
    expect(by('alias')).toMatchObject({
      user_id: `ajs-user-${run}`,
      previous_id: `ajs-prev-${run}`,
    });
    expect(by('track', 'Batched One')).toBeDefined();
    expect(by('track', 'Batched Two')).toBeDefined();
    expect((ctxOf(by('page'))['library'] as { name: string }).name).toBe('analytics.js');
    // One anonymous id for everything the first instance sent.
    const first = rows.filter((r) => !String(r['event']).startsWith('Batched'));
    expect(new Set(first.map((r) => r['anonymous_id'])).size).toBe(1);
    expect(String(first[0]?.['anonymous_id'])).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('records an email open (pixel) and a click (redirect) that lands on the allowed target', async () => {
    const run = uid();
    const landing = `${other.origin}/landing-${run}`;
    other.page(
      `/landing-${run}`,
      `<!doctype html><html><head><title>Landing</title></head><body>welcome</body></html>`,
    );
    const q = (o: Record<string, string>): string => new URLSearchParams(o).toString();
    const pixel = `${h.platform.url}/v1/pixel.gif?${q({
      writeKey: shopKey,
      event: 'Email Opened',
      userId: `mail-${run}`,
      'p.campaign': run,
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: run,
    })}`;
    const click = `${h.platform.url}/v1/r?${q({
      u: `${landing}?utm_source=newsletter&utm_medium=email&utm_campaign=${run}`,
      writeKey: shopKey,
      event: 'Email Link Clicked',
      userId: `mail-${run}`,
    })}`;
    const evil = `${h.platform.url}/v1/r?${q({ u: 'https://evil.example/', writeKey: shopKey, userId: `mail-${run}` })}`;
    shop.page(
      `/email-${run}.html`,
      `<!doctype html><html><body><p>Hello</p><img id="px" width="1" height="1" src="${pixel.replaceAll('&', '&amp;')}">
       <a id="cta" href="${click.replaceAll('&', '&amp;')}">Shop now</a>
       <a id="evil" href="${evil.replaceAll('&', '&amp;')}">Phish</a></body></html>`,
    );
    await page.goto(`${shop.origin}/email-${run}.html`);
    // The image loaded as a real 1x1 picture (the pixel always answers a GIF).
    await page.waitForFunction('document.getElementById("px").complete');
    expect(await page.evaluate('document.getElementById("px").naturalWidth')).toBe(1);
    await Promise.all([page.waitForURL(`${landing}**`), page.click('#cta')]);
    expect(await page.textContent('body')).toContain('welcome');

    const evilRes = await page.goto(evil);
    expect(evilRes?.status()).toBe(400);

    const rows = await waitFor(
      async () => {
        const r = await c.sql(
          `SELECT event, channel, utm_campaign, properties FROM events FINAL WHERE user_id = {u:String} ORDER BY timestamp`,
          { u: `mail-${run}` },
        );
        expect(r.map((x) => x['event'])).toEqual(['Email Opened', 'Email Link Clicked']);
        return r;
      },
      { timeoutMs: 20_000 },
    );
    expect(rows[0]).toMatchObject({ channel: 'Email', utm_campaign: run });
    expect(rows[1]).toMatchObject({ channel: 'Email', utm_campaign: run });
  });
});
