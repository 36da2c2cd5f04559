/**
 * The marketer console in real Chromium (Debian's, driven by playwright-core)
 * against the all-in-one platform on real chDB: sign in; create a source and
 * paste its snippet into a shop page whose events appear in Live events; a
 * refused event shows its code; an audience built in the visual builder
 * shows the size `POST /v1/audiences/preview` answers for the same
 * definition; a person's page shows the tags the API has; the attribution
 * and funnel charts are drawn from the API's numbers; no page logs an error.
 * Screenshots of every page are saved under test-artifacts/console/.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserUnavailableReason, launchBrowser, waitFor } from '@cdp/testkit';
import { adminApi, sendBatch, startTestPlatform, type Ctx, usePlatform } from './e2e-scenarios.js';
import { startTestSite, type TestSite } from './test-site.js';

const unavailable = browserUnavailableReason();
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/console/', import.meta.url));
const run = Math.random().toString(36).slice(2, 8);

const ANALYTICS = `analytics-token-${run}-for-the-console`;
const c: Ctx = usePlatform(() =>
  startTestPlatform({ CDP_LOADER_FLUSH_MS: '200', CDP_ANALYTICS_TOKEN: ANALYTICS }),
);

type Series = { labels: unknown[]; datasets: { label: string; data: unknown[] }[] };

/** Shoppers over the last two days, from three channels; some add to cart, fewer buy. */
function shoppers(): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const sources = ['google', 'newsletter', 'facebook'];
  const mediums = ['cpc', 'email', 'social'];
  const t0 = Date.now() - 2 * 86_400_000;
  for (let i = 0; i < 24; i++) {
    const userId = `shopper-${run}-${i}`;
    const at = (m: number): string => new Date(t0 + i * 3_600_000 + m * 60_000).toISOString();
    const k = i % 3;
    const campaign = { source: sources[k], medium: mediums[k], name: `spring-${run}` };
    events.push(
      {
        type: 'identify',
        userId,
        traits: { email: `shopper${i}.${run}@example.com`, plan: 'free' },
        timestamp: at(0),
      },
      { type: 'page', userId, name: 'Home', context: { campaign }, timestamp: at(1) },
      {
        type: 'track',
        userId,
        event: 'Product Viewed',
        properties: { category: 'shoes', sku: `s${i}` },
        context: { campaign },
        timestamp: at(2),
      },
    );
    if (i % 2 === 0)
      events.push({
        type: 'track',
        userId,
        event: 'Product Added',
        properties: { category: 'shoes' },
        timestamp: at(3),
      });
    if (i % 4 === 0)
      events.push({
        type: 'track',
        userId,
        event: 'Order Completed',
        properties: { revenue: 40 + i, category: 'shoes' },
        timestamp: at(5),
      });
  }
  return events.map((e, n) => ({ messageId: `${run}-${n}`, ...e }));
}

describe.skipIf(unavailable !== undefined)('the console in a real browser (Chromium)', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let shop: TestSite;
  /** Errors the page logged (console.error, uncaught exceptions, CSP violations) since the last check. */
  let errors: string[] = [];

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  };
  const open = async (hash: string): Promise<void> => {
    await page.goto(`${c.url}/console#/${hash}`);
    await page.waitForSelector(`main.page[data-page="${hash.split(/[/?]/)[0]}"]`);
  };
  const series = async (testid: string): Promise<Series> => {
    const el = page.locator(`[data-testid="${testid}"]`);
    await el.waitFor();
    return JSON.parse((await el.getAttribute('data-series')) ?? '{}') as Series;
  };
  /** Whether the chart's canvas has anything drawn on it. */
  const drawn = async (testid: string): Promise<boolean> =>
    page.evaluate<boolean>(`(() => {
      const cv = document.querySelector('[data-testid="${testid}"] canvas');
      const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
      return false;
    })()`);

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await sendBatch(c, shoppers());
    await waitFor(
      async () => {
        const r = await adminApi<{ events: unknown[] }>(
          c,
          'GET',
          `/v1/events?event=Order%20Completed&limit=500`,
        );
        expect(r.json.events.length).toBeGreaterThanOrEqual(6);
      },
      { timeoutMs: 20_000 },
    );
    expect((await adminApi(c, 'POST', '/v1/tags/recompute', { full: true })).status).toBe(200);
    shop = await startTestSite('127.0.0.1');
    browser = await launchBrowser();
    // Signed in as the admin (the sign-in form has its own test and context).
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript(
      `sessionStorage.setItem('cdp.console.session', ${JSON.stringify(JSON.stringify({ token: c.admin, role: 'admin' }))});`,
    );
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
  });
  beforeEach(() => {
    errors = [];
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.close();
  });

  it('refuses a wrong token with the API code, and signs in with the admin token', async () => {
    const own = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const p = await own.newPage();
    const logged: string[] = [];
    p.on('console', (m) => {
      if (m.type() === 'error') logged.push(m.text());
    });
    p.on('pageerror', (e) => logged.push(String(e)));
    try {
      await p.goto(`${c.url}/`);
      await p.fill('input[name="token"]', 'not-the-token');
      await p.click('button[type="submit"]');
      await expect(p.locator('.error[data-code]').getAttribute('data-code')).resolves.toBe(
        'CDP_ERR_API_UNAUTHORIZED',
      );
      await p.screenshot({ path: `${ARTIFACTS}sign-in-refused.png` });
      // The browser logs the 401 itself; nothing else may be logged.
      expect(logged.filter((e) => !e.includes('status of 401'))).toEqual([]);
      logged.length = 0;
      const t0 = Date.now();
      await p.fill('input[name="token"]', c.admin);
      await p.click('button[type="submit"]');
      await p.waitForSelector('main.page[data-page="overview"]');
      await p.waitForSelector('[data-testid="stat-uv"]');
      const firstLoadMs = Date.now() - t0;
      // The token is kept for the tab only, and never in the URL.
      expect(p.url()).not.toContain(c.admin);
      const kept = await p.evaluate<string | null>("sessionStorage.getItem('cdp.console.session')");
      expect(kept).toContain(c.admin);
      expect(await p.evaluate<number>('localStorage.length')).toBe(0);
      // Signed out, the page asks for the token again.
      await p.click('nav button:text-is("Sign out")');
      await p.waitForSelector('input[name="token"]');
      expect(
        await p.evaluate<string | null>("sessionStorage.getItem('cdp.console.session')"),
      ).toBeNull();
      process.stdout.write(`[console] sign-in to overview: ${firstLoadMs} ms\n`);
      expect(logged).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('creates a source whose snippet sends events that appear in Live events; a refused event shows its code', async () => {
    await open('sources');
    await page.fill('input[name="name"]', `shop-${run}`);
    await page.fill('input[name="origins"]', shop.origin);
    await page.click('[data-testid="create-source"]');
    const key = (await page.locator('[data-testid="write-key"]').textContent()) ?? '';
    expect(key).toMatch(/^wk_/);
    const pasted = (await page.locator('[data-testid="snippet"]').textContent()) ?? '';
    expect(pasted).toContain(key);
    await shot('sources');

    const marker = `Console Live ${run}`;
    shop.page(
      '/live.html',
      `<!doctype html><html><head>${pasted}</head><body><script>cdp.track(${JSON.stringify(marker)}, {plan: 'gold'});</script></body></html>`,
    );
    const shopPage = await context.newPage();
    await shopPage.goto(`${shop.origin}/live.html`);

    await open('live');
    await page.waitForSelector(`[data-testid="events"] .event-name:text-is("${marker}")`, {
      timeout: 20_000,
    });

    // A call the collection API refuses (no event name) is in the dead letters with its code.
    const refused = await fetch(`${c.url}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ userId: `nobody-${run}`, properties: { run } }),
    });
    expect(refused.status).toBe(400);
    const { code } = (await refused.json()) as { code: string };
    await page.waitForSelector(`[data-testid="dead-letters"] .code:text-is("${code}")`, {
      timeout: 20_000,
    });
    await shot('live-events');
    await shopPage.close();
    expect(errors).toEqual([]);
  });

  it('builds an audience whose size is what the preview API answers, within a second of each edit', async () => {
    await open('audiences/new');
    const settled = async (): Promise<string> => {
      await page.waitForSelector('[data-testid="audience-size"][data-busy="false"]');
      return (await page.locator('[data-testid="audience-size"]').textContent()) ?? '';
    };
    const previewSize = async (): Promise<number> => {
      const def = JSON.parse(
        (await page.locator('[data-testid="definition-json"]').textContent()) ?? '{}',
      ) as unknown;
      const r = await adminApi<{ size: number }>(c, 'POST', '/v1/audiences/preview', {
        definition: def,
      });
      expect(r.status).toBe(200);
      return r.json.size;
    };
    await settled();
    // Buyers of shoes: change the first condition to "performed Order Completed where category = shoes".
    const first = page.locator('.builder .cond:not(.group)').first();
    let t0 = Date.now();
    await first.locator('select[data-role="kind"]').selectOption('performed');
    await first.locator('input[data-role="event"]').fill('Order Completed');
    await page
      .waitForSelector('[data-testid="audience-size"][data-busy="true"]')
      .catch(() => undefined);
    let shown = await settled();
    const firstEditMs = Date.now() - t0;
    const buyers = await previewSize();
    expect(buyers).toBe(6);
    expect(shown).toBe(String(buyers));

    // And (a new group) did not come from the newsletter: an edit of a nested condition.
    t0 = Date.now();
    await page.click('.builder [data-role="add-condition"]');
    const second = page.locator('.builder .cond:not(.group)').nth(1);
    await second.locator('select[data-role="kind"]').selectOption('trait');
    await second.locator('input[data-role="name"]').fill('plan');
    await second.locator('input[data-role="value"]').fill('free');
    shown = await settled();
    const secondEditMs = Date.now() - t0;
    expect(shown).toBe(String(await previewSize()));
    expect(Number(shown)).toBe(6);
    process.stdout.write(
      `[console] audience size after an edit: ${firstEditMs} ms, ${secondEditMs} ms\n`,
    );
    expect(firstEditMs).toBeLessThan(3000);

    // A bad value is the API's refusal at the field, and the node is marked.
    await second.locator('select[data-role="op"]').selectOption('gt');
    await second.locator('input[data-role="value"]').fill('x');
    await page.waitForSelector('.builder .invalid');
    await expect(
      page.locator('.card .error[data-code]').first().getAttribute('data-code'),
    ).resolves.toBe('CDP_ERR_AUDIENCE_INVALID');
    await second.locator('input[data-role="value"]').fill('5');
    await second.locator('select[data-role="op"]').selectOption('eq');
    await second.locator('input[data-role="value"]').fill('free');
    await settled();
    await page.fill('input[name="audience-name"]', `buyers-${run}`);
    await page.click('[data-testid="save-audience"]');
    await page.waitForSelector(`h1:text-is("Audience buyers-${run}")`);
    await shot('audience-builder');
    const saved = await adminApi<{ audience: { definition: unknown } }>(
      c,
      'GET',
      `/v1/audiences/buyers-${run}`,
    );
    expect(saved.status).toBe(200);
    expect(JSON.stringify(saved.json.audience.definition)).toContain('Order Completed');
    // The browser logs the 400 of the bad value itself; nothing else.
    expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
    errors = [];
  });

  it("shows a person's tags as the API has them", async () => {
    const found = await adminApi<{ oneId: string }>(
      c,
      'GET',
      `/v1/persons/lookup?type=user_id&value=shopper-${run}-0`,
    );
    expect(found.status).toBe(200);
    const person = await adminApi<{ oneId: string; tags: Record<string, unknown> }>(
      c,
      'GET',
      `/v1/persons/${found.json.oneId}`,
    );
    expect(person.status).toBe(200);
    expect(person.json.tags['frequency']).toBe(1);
    await open(`people/${person.json.oneId}`);
    await page.waitForSelector('[data-testid="person-tags"]');
    const rows: string[][] = [];
    for (const tr of await page.locator('[data-testid="person-tags"] tbody tr').all())
      rows.push(await tr.locator('td').allTextContents());
    const shown = Object.fromEntries(rows.map(([k, v]) => [k, v]));
    expect(Object.keys(shown).sort()).toEqual(Object.keys(person.json.tags).sort());
    expect(shown['frequency']).toBe('1');
    expect(shown['rfm_group']).toBe(String(person.json.tags['rfm_group']));
    await page.waitForSelector('[data-testid="timeline"] tbody tr');
    await shot('person');
    expect(errors).toEqual([]);
  });

  it('draws attribution and funnel charts from the numbers the API answers', async () => {
    const now = Date.now();
    const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    // A link carries the page's inputs (the default is 30 days back).
    const from = iso(now - 20 * 86_400_000);
    await open(`attribution?from=${from}&to=${iso(now)}`);
    expect(await page.locator('input[name="from"]').inputValue()).toBe(from);
    const chart = await series('chart-attribution');
    const api = await adminApi<{
      models: { label: string }[];
      channels: { channel: string; credits: Record<string, { conversions: number }> }[];
    }>(
      c,
      'GET',
      `/v1/attribution?conversion=Order%20Completed&from=${from}&to=${iso(now)}&lookbackDays=30&limit=20`,
    );
    expect(api.status).toBe(200);
    expect(chart.labels).toEqual(api.json.channels.map((ch) => ch.channel));
    const labels = api.json.models.map((m) => m.label);
    expect(labels).toContain('markov');
    expect(chart.datasets.map((d) => d.label)).toEqual(labels);
    for (const [i, m] of labels.entries()) {
      const credited = api.json.channels.map((ch) => ch.credits[m]?.conversions ?? 0);
      expect(chart.datasets[i]?.data).toEqual(credited);
      // Each model hands out the 6 conversions, all of them touched.
      expect(credited.reduce((x, y) => x + y, 0)).toBeCloseTo(6, 6);
    }
    expect(chart.labels.length).toBeGreaterThanOrEqual(3);
    expect(await drawn('chart-attribution')).toBe(true);
    await shot('attribution');

    await open('funnels');
    await page.click('[data-testid="run-funnel"]');
    const funnel = await series('chart-funnel');
    const f = await adminApi<{ steps: { people: number }[] }>(c, 'POST', '/v1/funnels', {
      steps: [
        { event: 'Product Viewed' },
        { event: 'Product Added' },
        { event: 'Order Completed' },
      ],
      windowSeconds: 86_400,
      from: iso(now - 30 * 86_400_000),
      to: iso(now),
    });
    expect(f.status).toBe(200);
    expect(funnel.datasets[0]?.data).toEqual(f.json.steps.map((s) => s.people));
    expect(funnel.datasets[0]?.data).toEqual([24, 12, 6]);
    expect(await drawn('chart-funnel')).toBe(true);
    await shot('funnels');
    expect(errors).toEqual([]);
  });

  it('shows a bad tag definition refused at its field, and saves a good one', async () => {
    await open('tags/new');
    const editor = page.locator('[data-testid="tag-editor"]');
    const bad = {
      name: `spend_${run}`,
      type: 'computed',
      computed: { fn: 'median', event: 'Order Completed', property: 'revenue' },
    };
    await editor.fill(JSON.stringify(bad, null, 2));
    await page.click('[data-testid="save-tag"]');
    const error = page.locator('.card .error[data-code]');
    await expect(error.getAttribute('data-code')).resolves.toBe('CDP_ERR_TAG_INVALID');
    expect(await error.locator('.field').textContent()).toContain('computed.fn');
    // The editor selects the key the refusal names.
    const selected = await editor.evaluate((el) => {
      const area = el as unknown as { value: string; selectionStart: number; selectionEnd: number };
      return area.value.slice(area.selectionStart, area.selectionEnd);
    });
    expect(selected).toBe('"fn"');
    await shot('tag-refused');
    await editor.fill(
      JSON.stringify({ ...bad, computed: { ...bad.computed, fn: 'sum' } }, null, 2),
    );
    await page.click('[data-testid="save-tag"]');
    await page.waitForSelector(`[data-testid="tag-list"] strong:text-is("spend_${run}")`);
    const stored = await adminApi<{ tag: { version: number } }>(c, 'GET', `/v1/tags/spend_${run}`);
    expect(stored.status).toBe(200);
    expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
    errors = [];
  });

  it('signs the analytics token in read-only: no Sources page, PII masked, no write actions', async () => {
    const own = await browser.newContext();
    const p = await own.newPage();
    const logged: string[] = [];
    p.on('pageerror', (e) => logged.push(String(e)));
    try {
      await p.goto(`${c.url}/`);
      await p.fill('input[name="token"]', ANALYTICS);
      await p.click('button[type="submit"]');
      await p.waitForSelector('main.page[data-page="overview"]');
      expect(await p.locator('nav').textContent()).toContain('Analyst (read-only)');
      expect(await p.locator('nav a[href="#/sources"]').count()).toBe(0);
      const found = await adminApi<{ oneId: string }>(
        c,
        'GET',
        `/v1/persons/lookup?type=user_id&value=shopper-${run}-1`,
      );
      await p.goto(`${c.url}/console#/people/${found.json.oneId}`);
      await p.waitForSelector('[data-testid="timeline"]');
      const traits = (await p.locator('pre.props').first().textContent()) ?? '';
      expect(traits).toContain('"plan": "free"');
      expect(traits).not.toContain(`shopper1.${run}@example.com`);
      expect(traits).toContain('•••');
      expect(await p.locator('[data-testid="delete-person"]').count()).toBe(0);
      await p.screenshot({ path: `${ARTIFACTS}analyst-person.png`, fullPage: true });
      expect(logged).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('opens every page without an error, and saves a screenshot of each', async () => {
    const pages = [
      'overview',
      'live',
      'sources',
      'people',
      'tags',
      'audiences',
      'attribution',
      'funnels',
      'paths',
      'alerts',
    ];
    const times: Record<string, number> = {};
    for (const p of pages) {
      const t0 = Date.now();
      await open(p);
      // Interactive: the page's first data is in (no loading indicator left).
      await page.locator('main.page .loading').first().waitFor({ state: 'detached' });
      await page.waitForLoadState('networkidle');
      if (p === 'paths') await page.waitForSelector('[data-testid="chart-paths"]');
      times[p] = Date.now() - t0;
      await shot(`page-${p}`);
    }
    expect(await page.locator('.error').count()).toBe(0);
    process.stdout.write(`[console] page load ms: ${JSON.stringify(times)}\n`);
    expect(errors).toEqual([]);
  });
});
