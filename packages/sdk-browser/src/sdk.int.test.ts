/**
 * The built SDK (dist/cdp.min.js) in a real Chromium, loaded by the snippet
 * from an "ingest" on another origin that records what the SDK sends: the
 * HTTP behaviour only (batching, unload, retries, offline, consent, DNT,
 * cookies, sessions). The real ingest end to end is tested elsewhere.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserUnavailableReason, launchBrowser, waitFor } from '@cdp/testkit';
import { builtBundle, startTestSites, type PageConfig, type TestSites } from './test/site.js';

const unavailable = browserUnavailableReason();
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Sdk = Record<string, (...args: unknown[]) => unknown>;

/** Calls `cdp[method](...args)` in the page (awaiting a returned promise). */
function cdp(page: Page, method: string, ...args: unknown[]): Promise<unknown> {
  return page.evaluate(([m, a]) => (globalThis as unknown as { cdp: Sdk }).cdp[m]!(...a), [
    method,
    args,
  ] as const);
}

/** This tab's id (sessionStorage), which names its stored queue. */
function tabId(page: Page): Promise<string | null> {
  return page.evaluate(() =>
    (
      globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
    ).sessionStorage.getItem('cdp_tab'),
  );
}

/** Storage keys of the SDK in the page. */
function storedKeys(page: Page): Promise<{ local: string[]; session: string[] }> {
  return page.evaluate(() => {
    const g = globalThis as unknown as { localStorage: KeyList; sessionStorage: KeyList };
    const keys = (s: KeyList): string[] =>
      Array.from({ length: s.length }, (_, i) => s.key(i) ?? '').filter((k) =>
        k.startsWith('cdp_'),
      );
    return { local: keys(g.localStorage), session: keys(g.sessionStorage) };
  });
}

/** Names (`event`, else `type`) of the events in the SDK's stored queues, in order. */
function storedEvents(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const ls = (
      globalThis as unknown as { localStorage: KeyList & { getItem(k: string): string | null } }
    ).localStorage;
    const out: string[] = [];
    for (let i = 0; i < ls.length; i++) {
      const k = ls.key(i) ?? '';
      if (!k.startsWith('cdp_q.')) continue;
      const rec = JSON.parse(ls.getItem(k) ?? '{}') as { q?: { event?: string; type?: string }[] };
      for (const e of rec.q ?? []) out.push(e.event ?? e.type ?? '');
    }
    return out;
  });
}

interface KeyList {
  readonly length: number;
  key(i: number): string | null;
}

describe.skipIf(unavailable !== undefined)('browser SDK in Chromium', () => {
  let sites: TestSites;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  /** Opens a page with the snippet and waits for the SDK to replace the stub. */
  async function open(cfg: PageConfig = {}, query = '', p: Page = page): Promise<void> {
    await p.goto(sites.pageUrl(cfg, query));
    await p.waitForFunction(() => {
      const c = (globalThis as unknown as { cdp?: unknown }).cdp;
      return c !== undefined && !Array.isArray(c);
    });
  }
  const count = (id: string): number => sites.events().filter((e) => e.messageId === id).length;
  const names = (): unknown[] => sites.events().map((e) => e['event'] ?? e['type']);
  /**
   * Tracks `Marker` in `p`, flushes, and waits until it is posted. The SDK
   * sends one queue, oldest first, one request after the other: whatever it
   * was going to send before the marker (a retry, a resend, a take-over) has
   * been posted by then. The positive signal that replaces "wait, then see
   * that nothing came".
   */
  const marker = async (p: Page, name = 'Marker'): Promise<void> => {
    await cdp(p, 'track', name);
    await cdp(p, 'flush');
    await waitFor(() => expect(names()).toContain(name));
  };

  beforeAll(async () => {
    sites = await startTestSites(builtBundle());
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await sites?.close();
  });
  beforeEach(async () => {
    sites.reset();
    context = await browser.newContext();
    page = await context.newPage();
  });
  afterEach(async () => {
    await context.close();
    // text/plain POSTs are CORS "simple" requests: never a preflight.
    expect(sites.received.filter((r) => r.method === 'OPTIONS')).toEqual([]);
  });

  it('replays calls made before the script arrived, in one cross-origin text/plain batch', async () => {
    sites.scriptDelayMs = 300;
    const cfg: PageConfig = {
      options: { batch: { size: 3, waitMs: 60_000 } },
      inline: `cdp.track('Early', {n: 1}); cdp.identify('u1', {plan: 'pro'});`,
    };
    await open(cfg, 'ref=1#top');
    const [post] = await waitFor(() => {
      const p = sites.posts();
      expect(p).toHaveLength(1);
      return p;
    });
    expect(post!.headers['content-type']).toMatch(/^text\/plain/);
    expect(post!.headers.origin).toBe(sites.siteOrigin);
    expect(post!.body.writeKey).toBe('wk_test');
    expect(Date.parse(post!.body.sentAt)).toBeGreaterThan(Date.now() - 10_000);
    const [pg, track, identify] = post!.body.batch;
    expect([pg?.['type'], track?.['event'], identify?.['userId']]).toEqual(['page', 'Early', 'u1']);
    expect(track?.['properties']).toEqual({ n: 1 });
    expect(identify?.['traits']).toEqual({ plan: 'pro' });
    // Chromium's own form of the URL, without the fragment.
    const url = page.url().split('#')[0]!;
    expect(url.startsWith(sites.pageUrl(cfg).split('?')[0]!)).toBe(true);
    expect(url.endsWith('&ref=1')).toBe(true);
    expect(pg?.context).toMatchObject({
      page: { url, path: '/page', title: 'Test page', referrer: '', search: new URL(url).search },
      library: { name: '@cdp/sdk-browser', version: expect.any(String) },
      userAgent: expect.stringContaining('Chrome'),
      locale: expect.any(String),
      timezone: expect.any(String),
      screen: {
        width: expect.any(Number),
        height: expect.any(Number),
        density: expect.any(Number),
      },
      sessionStart: true,
    });
    for (const e of post!.body.batch) {
      expect(e.messageId).toMatch(UUID_V4);
      expect(e['anonymousId']).toBe(pg?.['anonymousId']);
      expect(Date.parse(e['timestamp'] as string)).toBeGreaterThan(0);
    }
    // Queued calls keep the time they were made, before the script arrived.
    expect(Date.parse(track?.['timestamp'] as string)).toBeLessThan(post!.at - 250);
  });

  it('sends a partial batch after batch.waitMs', async () => {
    await open({ options: { batch: { size: 20, waitMs: 700 } }, page: false });
    const start = Date.now();
    await cdp(page, 'track', 'A');
    await cdp(page, 'track', 'B');
    const [post] = await waitFor(() => {
      const p = sites.posts();
      expect(p).toHaveLength(1);
      return p;
    });
    expect(post!.body.batch.map((e) => e['event'])).toEqual(['A', 'B']);
    expect(post!.at - start).toBeGreaterThanOrEqual(600);
  });

  it('keeps the anonymous id in a first-party cookie, stable across reloads; reset() renews it', async () => {
    await open({ options: { batch: { size: 1 } } });
    await page.reload();
    await page.waitForFunction(
      () => !Array.isArray((globalThis as unknown as { cdp: unknown }).cdp),
    );
    await waitFor(() => expect(sites.events()).toHaveLength(2));
    const cookie = (await context.cookies(sites.siteOrigin)).find((c) => c.name === 'cdp_aid');
    expect(cookie).toMatchObject({ path: '/', sameSite: 'Lax', secure: false, httpOnly: false });
    expect(cookie!.value).toMatch(UUID_V4);
    const year = Date.now() / 1000 + 365 * 24 * 3600;
    expect(Math.abs(cookie!.expires - year)).toBeLessThan(3600);
    expect(sites.events().map((e) => e['anonymousId'])).toEqual([cookie!.value, cookie!.value]);
    await cdp(page, 'reset');
    const renewed = (await context.cookies(sites.siteOrigin)).find((c) => c.name === 'cdp_aid');
    expect(renewed!.value).toMatch(UUID_V4);
    expect(renewed!.value).not.toBe(cookie!.value);
  });

  it('keeps the landing campaign for the session and starts a new session after the timeout', async () => {
    // The page's clock is the test's: inactivity is a jump of the clock, so
    // how long the machine takes between two calls (well under a minute)
    // decides nothing.
    await context.clock.install();
    const timeoutMs = 10 * 60_000;
    const cfg: PageConfig = { options: { batch: { size: 1 }, session: { timeoutMs } } };
    await open(
      cfg,
      'utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=t&utm_content=c&gclid=g1&fbclid=f1',
    );
    await open(cfg);
    await waitFor(() => expect(sites.events()).toHaveLength(2));
    // A minute short of the timeout after the last event: the same session.
    await context.clock.fastForward(timeoutMs - 60_000);
    await cdp(page, 'track', 'Within');
    await waitFor(() => expect(sites.events()).toHaveLength(3));
    // The timeout after the last event: a new session.
    await context.clock.fastForward(timeoutMs);
    await cdp(page, 'track', 'Later');
    await waitFor(() => expect(sites.events()).toHaveLength(4));
    const pageNow = await page.evaluate(() => Date.now());
    const [landing, next, within, later] = sites.events().map((e) => e.context);
    const campaign = {
      source: 'news',
      medium: 'email',
      name: 'spring',
      term: 't',
      content: 'c',
      gclid: 'g1',
      fbclid: 'f1',
    };
    expect(landing).toMatchObject({ campaign, sessionStart: true });
    expect(next).toMatchObject({ campaign, sessionId: landing!['sessionId'] });
    expect(next).not.toHaveProperty('sessionStart');
    expect(within).toMatchObject({ campaign, sessionId: landing!['sessionId'] });
    expect(within).not.toHaveProperty('sessionStart');
    expect(later).toMatchObject({ sessionStart: true });
    expect(later).not.toHaveProperty('campaign');
    // The new session's id is the time of its first event, on the page's clock.
    expect(later!['sessionId']).toBeGreaterThanOrEqual(
      (landing!['sessionId'] as number) + 2 * timeoutMs - 60_000,
    );
    expect(later!['sessionId']).toBeLessThanOrEqual(pageNow);
  });

  it('retries a 503 with backoff, with the same messageIds', async () => {
    sites.answers = [{ status: 503 }, { status: 503 }];
    await open({ options: { batch: { size: 1 }, retry: { baseMs: 200 } }, page: false });
    await cdp(page, 'track', 'Retried');
    await waitFor(() => expect(sites.posts()).toHaveLength(3));
    // Acknowledged on the third attempt: no fourth comes before a later event.
    await marker(page);
    expect(names()).toEqual(['Retried', 'Retried', 'Retried', 'Marker']);
    const posts = sites.posts();
    const ids = posts.map((p) => p.body.batch.map((e) => e.messageId));
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
    // Backoff with jitter: attempt 1 waits 100-200 ms, attempt 2 200-400 ms.
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(80);
    expect(posts[2]!.at - posts[1]!.at).toBeGreaterThanOrEqual(180);
    expect((await storedKeys(page)).local.filter((k) => k.startsWith('cdp_q.'))).toEqual([]);
  });

  it('waits as long as Retry-After says on a 429', async () => {
    sites.answers = [{ status: 429, headers: { 'Retry-After': '2' } }];
    await open({ options: { batch: { size: 1 }, retry: { baseMs: 10 } }, page: false });
    await cdp(page, 'track', 'Throttled');
    await waitFor(() => expect(sites.posts()).toHaveLength(2), { timeoutMs: 5000 });
    const [first, second] = sites.posts();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
    expect(second!.body.batch[0]!.messageId).toBe(first!.body.batch[0]!.messageId);
  });

  it('drops a batch refused with 400 and does not retry it', async () => {
    sites.answers = [{ status: 400 }];
    await open({ options: { batch: { size: 1 }, retry: { baseMs: 10 } }, page: false });
    await cdp(page, 'track', 'Refused');
    await waitFor(() => expect(sites.posts()).toHaveLength(1));
    // Not retried: a later event is the next thing posted.
    await marker(page);
    expect(names()).toEqual(['Refused', 'Marker']);
    expect((await storedKeys(page)).local.filter((k) => k.startsWith('cdp_q.'))).toEqual([]);
  });

  it('sends waiting events in a beacon when the user leaves; the next page does not resend them', async () => {
    await open({ options: { batch: { waitMs: 60_000 } } });
    await cdp(page, 'track', 'Before Leaving');
    expect(sites.posts()).toHaveLength(0);
    await page.goto(`${sites.siteOrigin}/plain`);
    const [beacon] = await waitFor(() => {
      const p = sites.posts();
      expect(p).toHaveLength(1);
      return p;
    });
    expect(beacon!.headers['sec-fetch-mode']).toBe('no-cors');
    expect(beacon!.headers['content-type']).toMatch(/^text\/plain/);
    expect(beacon!.body.batch.map((e) => e['type'] === 'page' || e['event'])).toEqual([
      true,
      'Before Leaving',
    ]);
    await open({ options: { batch: { waitMs: 60_000 } } });
    await cdp(page, 'flush');
    await waitFor(() => expect(sites.posts()).toHaveLength(2));
    for (const e of beacon!.body.batch) expect(count(e.messageId)).toBe(1);
  });

  it('lets a keepalive request in flight at navigation finish, and does not resend it', async () => {
    sites.answers = [{ status: 200, delayMs: 1500 }];
    await open({ options: { batch: { size: 1 } }, page: false });
    const tab = { tabId: await tabId(page) };
    expect(tab.tabId).toMatch(UUID_V4);
    await cdp(page, 'track', 'In Flight');
    await waitFor(() => expect(sites.posts()).toHaveLength(1));
    const id = sites.posts()[0]!.body.batch[0]!.messageId;
    expect(sites.posts()[0]!.headers['sec-fetch-mode']).toBe('cors');
    await open({ options: { batch: { size: 1 } }, page: false });
    // Same tab, same queue: had the event been left in it, this page would resend it.
    expect(await tabId(page)).toBe(tab.tabId);
    await cdp(page, 'track', 'Next Page');
    await waitFor(() => expect(sites.posts()).toHaveLength(2));
    // Once the first page's request has had its (delayed) answer, this page
    // takes over whatever queue still holds events (`online`) and posts a
    // marker: had the event been left anywhere, it comes before the marker.
    await waitFor(() => expect(sites.answered()).toBe(2), { what: 'the delayed answer' });
    await page.evaluate(() =>
      (globalThis as unknown as { dispatchEvent(e: unknown): void }).dispatchEvent(
        new Event('online'),
      ),
    );
    await marker(page);
    expect(count(id)).toBe(1);
    expect(names()).toEqual(['In Flight', 'Next Page', 'Marker']);
  });

  it('flushes with a keepalive fetch when the page is hidden', async () => {
    await open({ options: { batch: { waitMs: 60_000 } }, page: false });
    await cdp(page, 'track', 'Tab Switched');
    await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { dispatchEvent(e: unknown): void } })
        .document;
      Object.defineProperty(d, 'visibilityState', { configurable: true, get: () => 'hidden' });
      d.dispatchEvent(new Event('visibilitychange'));
    });
    const [post] = await waitFor(() => {
      const p = sites.posts();
      expect(p).toHaveLength(1);
      return p;
    });
    expect(post!.headers['sec-fetch-mode']).toBe('cors');
    expect(post!.body.batch.map((e) => e['event'])).toEqual(['Tab Switched']);
  });

  it('offline: keeps events stored and sends them once back online', async () => {
    await open({ options: { batch: { size: 1 } }, page: false });
    await context.setOffline(true);
    await cdp(page, 'track', 'Offline 1');
    await cdp(page, 'track', 'Offline 2');
    // Kept in the stored queue (the network is down: nothing can arrive).
    expect(await storedEvents(page)).toEqual(['Offline 1', 'Offline 2']);
    expect(sites.posts()).toHaveLength(0);
    await context.setOffline(false);
    await waitFor(() =>
      expect(sites.events().map((e) => e['event'])).toEqual(['Offline 1', 'Offline 2']),
    );
    await waitFor(async () =>
      expect((await storedKeys(page)).local.some((k) => k.startsWith('cdp_q.'))).toBe(false),
    );
  });

  it('offline when the tab goes away: the next visit, in a new tab, sends the stored events once', async () => {
    await open({ options: { batch: { size: 1 } }, page: false });
    await context.setOffline(true);
    await cdp(page, 'track', 'Stored 1');
    await cdp(page, 'track', 'Stored 2');
    await page.goto('about:blank');
    await page.close();
    await context.setOffline(false);
    expect(sites.posts()).toHaveLength(0);
    const next = await context.newPage();
    await open({ options: { batch: { size: 1 } }, page: false }, '', next);
    await waitFor(() =>
      expect(sites.events().map((e) => e['event'])).toEqual(['Stored 1', 'Stored 2']),
    );
    // Once: a later event of the new tab is the next thing posted.
    await marker(next);
    expect(names()).toEqual(['Stored 1', 'Stored 2', 'Marker']);
    page = next;
  });

  it('leaves a closed queue to the tab holding the lease, and takes it over once released', async () => {
    await open({ page: false });
    const orphan = {
      type: 'track',
      event: 'Orphan',
      messageId: 'orphan-1',
      timestamp: new Date().toISOString(),
      anonymousId: 'a',
      properties: {},
      context: {},
    };
    await page.evaluate(
      ([record, lease]) => {
        const ls = (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage;
        ls.setItem('cdp_q.closed-tab', record!);
        ls.setItem('cdp_lease', lease!);
      },
      [
        JSON.stringify({ t: 0, q: [orphan] }),
        JSON.stringify({ id: 'other-tab', exp: Date.now() + 60_000 }),
      ],
    );
    const second = await context.newPage();
    await open({ page: false }, '', second);
    // The new tab tried to take over at start and was refused: its own
    // event goes out without the orphan.
    await marker(second, 'Marker 1');
    expect(count('orphan-1')).toBe(0);
    await second.evaluate(() => {
      const g = globalThis as unknown as {
        localStorage: { removeItem(k: string): void };
        dispatchEvent(e: unknown): void;
      };
      g.localStorage.removeItem('cdp_lease');
      g.dispatchEvent(new Event('online'));
    });
    await waitFor(() => expect(count('orphan-1')).toBe(1));
    // Sent once: neither tab sends it again before an event of its own.
    await marker(second, 'Marker 2');
    await marker(page, 'Marker 3');
    expect(count('orphan-1')).toBe(1);
  });

  it('with consent required: sends and stores nothing until consent, then sends with context.consent', async () => {
    await open({
      options: { batch: { size: 2 }, consent: { required: true, categories: ['analytics'] } },
    });
    await cdp(page, 'track', 'Before Consent');
    expect(await storedKeys(page)).toEqual({ local: [], session: [] });
    expect(await context.cookies(sites.siteOrigin)).toEqual([]);
    await cdp(page, 'consent', ['analytics']);
    await cdp(page, 'flush');
    await waitFor(() => expect(sites.events()).toHaveLength(2));
    // The SDK posts one request after the other: anything it had sent before
    // consent was answered before these were posted, and would be here (its
    // consent context saying analytics: false).
    const events = sites.events();
    expect(events.map((e) => e['type'] === 'page' || e['event'])).toEqual([true, 'Before Consent']);
    for (const e of events) {
      expect(e.context['consent']).toEqual({ categoryPreferences: { analytics: true } });
    }
    const cookie = (await context.cookies(sites.siteOrigin)).find((c) => c.name === 'cdp_aid');
    expect(cookie?.value).toBe(events[0]!['anonymousId']);
  });

  it.each([
    [
      'Do-Not-Track',
      `Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })`,
    ],
    [
      'Global Privacy Control',
      `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })`,
    ],
  ])('with respectDnt and %s: sends and stores nothing', async (_what, script) => {
    await context.addInitScript(script);
    await open({ options: { batch: { size: 1 }, respectDnt: true } });
    await cdp(page, 'identify', 'u1', { email: 'a@example.com' });
    await cdp(page, 'track', 'Tracked');
    await cdp(page, 'flush');
    expect(await storedKeys(page)).toEqual({ local: [], session: [] });
    // Leaving the page is when a beacon would go. The next page sends a
    // beacon of its own to the same server, queued after that page's pagehide
    // ran; once it has arrived, one the SDK queued when leaving (or any
    // request before) has arrived too, as far as the browser sends in order.
    // (Playwright's request events do not report beacons sent at unload.)
    await page.goto(`${sites.siteOrigin}/plain`);
    await page.evaluate(
      (url) =>
        (
          globalThis as unknown as { navigator: { sendBeacon(u: string, b: string): boolean } }
        ).navigator.sendBeacon(url, 'fence'),
      `${sites.ingestOrigin}/fence`,
    );
    await waitFor(() => expect(sites.received.some((r) => r.path === '/fence')).toBe(true));
    expect(sites.posts()).toHaveLength(0);
    expect(await context.cookies(sites.siteOrigin)).toEqual([]);
  });
});
