// Console benchmark: the issue's figures, "every page interactive in under
// 1 s on the all-in-one with 10,000,000 events; audience size updates under
// 1 s after an edit; console JavaScript under 300 KB gzipped". Starts the
// all-in-one runner (`packages/platform/dist/main.js`) on a data dir that
// already holds the events (bench/tags.mjs makes 10,000,000 of 1,000,000
// people over 300 days), drives Debian's Chromium with playwright-core, and
// prints figures; not a test.
//
//   npm run build && BENCH_DATA_DIR=/tmp/bench-tags node bench/tags.mjs   # the data, once
//   BENCH_DATA_DIR=/tmp/bench-tags node bench/console.mjs
//
// A page is interactive when its first API answers are all in and drawn (no
// request to /v1 in flight for 300 ms and no loading indicator; the time is
// that of the last answer). Funnels is timed from its Run click. The tag
// engine's first full run at start is waited for, so pages are timed on a
// quiet runner (BENCH_WAIT_TAGS=0 to time them during it). Each page is timed
// cold (first visit) and warm (the median of BENCH_RUNS more).
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { freePort, percentile, sleep, startRunner, waitHttp, writeResults } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir)
  throw new Error('set BENCH_DATA_DIR to a data dir with events (bench/tags.mjs makes one)');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WAIT_TAGS = process.env.BENCH_WAIT_TAGS !== '0';
const PAGES = [
  'overview',
  'live',
  'sources',
  'people',
  'tags',
  'audiences',
  'attribution',
  'paths',
  'alerts',
];

const assets = join(root, 'packages/console/dist/app/assets');
const script = readdirSync(assets).find((f) => f.endsWith('.js'));
const scriptBytes = readFileSync(join(assets, script));
const scriptGzip = gzipSync(scriptBytes, { level: 9 }).length;

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, node ${process.version}; data ${dataDir}`,
);
console.log(
  `console script ${script}: ${(scriptBytes.length / 1024).toFixed(1)} KB, ${(scriptGzip / 1024).toFixed(1)} KB gzipped`,
);
const server = startRunner(dataDir, port);
let browser;
try {
  const started = Date.now();
  await waitHttp(`${url}/readyz`, 600_000);
  console.log(`platform ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const { adminToken } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const api = async (path, init = {}) => {
    const res = await fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    });
    return res.json();
  };
  const [{ n: events }] = (
    await api('/v1/sql', {
      method: 'POST',
      body: JSON.stringify({ query: 'SELECT count() AS n FROM events' }),
    })
  ).rows;
  const [{ one_id: person }] = (
    await api('/v1/sql', {
      method: 'POST',
      body: JSON.stringify({
        query: "SELECT one_id FROM events WHERE event = 'Order Completed' LIMIT 1",
      }),
    })
  ).rows;
  // The date pages open on the last 30 days of the data (links carry their inputs).
  const [{ last }] = (
    await api('/v1/sql', {
      method: 'POST',
      body: JSON.stringify({
        query: 'SELECT toString(toDate(max(timestamp))) AS last FROM events',
      }),
    })
  ).rows;
  const from = new Date(Date.parse(last) - 30 * 86_400_000).toISOString().slice(0, 10);
  const range = `?from=${from}&to=${last}`;
  console.log(`events: ${events}; person page: ${person}; date pages on ${from} .. ${last}`);
  if (WAIT_TAGS) {
    const t = Date.now();
    for (;;) {
      const { runs = [] } = await api('/v1/tags/runs?limit=5');
      if (runs.some((r) => r.status === 'done' && Date.parse(r.startedAt) >= started - 1000)) break;
      if (Date.now() - t > 900_000) throw new Error('no tag run finished within 15 minutes');
      await sleep(2000);
    }
    console.log(`first tag run done after ${((Date.now() - t) / 1000).toFixed(1)} s more`);
  }

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  // First load: a new browser profile, the sign-in page and its script.
  const fresh = await browser.newContext();
  const first = await fresh.newPage();
  let t0 = Date.now();
  await first.goto(`${url}/`);
  await first.waitForSelector('input[name="token"]');
  const firstLoadMs = Date.now() - t0;
  await fresh.close();

  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript(
    `if (location.protocol === 'http:') sessionStorage.setItem('cdp.console.session', ${JSON.stringify(JSON.stringify({ token: adminToken, role: 'admin' }))});`,
  );
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let inflight = 0;
  let lastDone = 0;
  const isApi = (r) => new URL(r.url()).pathname.startsWith('/v1/');
  page.on('request', (r) => isApi(r) && inflight++);
  const done = (r) => {
    if (!isApi(r)) return;
    inflight--;
    lastDone = Date.now();
  };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  /** Waits until no API call is in flight for 300 ms and nothing is loading; answers the last answer's time. */
  const quiet = async () => {
    for (;;) {
      await sleep(20);
      const loading = await page.locator('main.page .loading, [data-busy="true"]').count();
      if (inflight === 0 && loading === 0 && Date.now() - lastDone >= 300) return lastDone;
    }
  };
  const visit = async (hash) => {
    await page.goto('about:blank');
    const start = Date.now();
    lastDone = start;
    await page.goto(`${url}/console#/${hash}`);
    await page.waitForSelector(`main.page[data-page="${hash.split(/[/?]/)[0]}"]`);
    const end = await quiet();
    return end - start;
  };
  const times = {};
  const pages = [
    ...PAGES.filter((p) => p !== 'people').map((p) =>
      p === 'attribution' || p === 'paths' ? `${p}${range}` : p,
    ),
    `people/${person}`,
  ];
  for (const p of pages) {
    const cold = await visit(p);
    const warm = [];
    for (let i = 0; i < RUNS; i++) warm.push(await visit(p));
    const name = p.split(/[/?]/)[0];
    times[name] = { cold, warm: percentile(warm, 50) };
    console.log(
      `${name.padEnd(12)} cold ${String(cold).padStart(5)} ms, warm ${String(percentile(warm, 50)).padStart(5)} ms`,
    );
  }
  // Funnels: from the Run click to the drawn answer.
  const funnel = [];
  for (let i = 0; i <= RUNS; i++) {
    await visit(`funnels${range}`);
    const start = Date.now();
    lastDone = start;
    await page.click('[data-testid="run-funnel"]');
    await page.waitForSelector('[data-testid="chart-funnel"]');
    funnel.push((await quiet()) - start);
  }
  times.funnels = { cold: funnel[0], warm: percentile(funnel.slice(1), 50) };
  console.log(
    `${'funnels'.padEnd(12)} cold ${String(funnel[0]).padStart(5)} ms, warm ${String(times.funnels.warm).padStart(5)} ms`,
  );

  // The audience builder: the size after an edit (the 300 ms pause included).
  await visit('audiences/new');
  const edits = [];
  const values = ['Loyal', 'Champions', 'At Risk', 'Hibernating'];
  for (let i = 0; i < values.length; i++) {
    const input = page.locator('.builder .cond:not(.group) input[data-role="value"]').first();
    await input.fill(values[i]);
    const start = Date.now();
    lastDone = start;
    await quiet();
    edits.push(lastDone - start);
  }
  // And a behaviour condition: bought in the last 30 days.
  const cond = page.locator('.builder .cond:not(.group)').first();
  await cond.locator('select[data-role="kind"]').selectOption('performed');
  await cond.locator('input[data-role="event"]').fill('Order Completed');
  let start = Date.now();
  lastDone = start;
  await quiet();
  const performedMs = lastDone - start;
  const size = await page.locator('[data-testid="audience-size"]').textContent();
  console.log(
    `audience size after a tag edit: ${edits.join(', ')} ms; after a performed edit: ${performedMs} ms (size ${size})`,
  );
  if (errors.length > 0) console.log(`page errors: ${errors.join('; ')}`);

  const slowest = Object.entries(times).sort((a, b) => b[1].warm - a[1].warm)[0];
  const coldest = Object.entries(times).sort((a, b) => b[1].cold - a[1].cold)[0];
  writeResults('console', {
    params: { events: Number(events), runs: RUNS, waitedForTagRun: WAIT_TAGS },
    figures: [
      {
        what: 'console script, gzipped',
        value: `${(scriptGzip / 1024).toFixed(1)} KB`,
        target: '300 KB',
      },
      { what: 'first load (sign-in page, new profile)', value: `${firstLoadMs} ms` },
      { what: `slowest page, warm (${slowest[0]})`, value: `${slowest[1].warm} ms`, target: '1 s' },
      {
        what: `slowest page, first visit (${coldest[0]})`,
        value: `${coldest[1].cold} ms`,
        target: '1 s',
      },
      ...Object.entries(times).map(([p, t]) => ({
        what: `${p} interactive`,
        value: `first ${t.cold} ms, warm ${t.warm} ms`,
      })),
      {
        what: 'audience size after a tag edit (300 ms pause included), median',
        value: `${percentile(edits, 50)} ms`,
        target: '1 s',
      },
      { what: 'audience size after a performed edit', value: `${performedMs} ms`, target: '1 s' },
    ],
    raw: { times, edits, performedMs, firstLoadMs, scriptGzip },
  });
} finally {
  await browser?.close();
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
}
