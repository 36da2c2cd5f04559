// Tag engine benchmark: every built-in tag over 10,000,000 events of
// 1,000,000 people (20% merged by OneID) on embedded chDB, through the
// engine the platform runs. Prints figures; not a test.
//
//   npm run build && node bench/tags.mjs [--optimize]
//
// Figures: a cold full run (no tags yet: every value is new, so every value
// is written and published), a warm full run (the same data again: the
// computation, with only the changes written), and an incremental run after
// 10,000 new events of 5,000 people. Each with its steps (ms).
// --optimize merges the events table first (OPTIMIZE ... FINAL), as
// background merges eventually do; without it the runs read the parts as
// the generator left them, as a user sees them right after loading.
// Figures also go to bench/results/tags[-optimized].json.
//
// Env: BENCH_EVENTS (default 10000000), BENCH_PEOPLE (default 1000000),
// BENCH_DATA_DIR (default: a fresh temp dir, removed; set it to keep the data
// between runs: the generator is skipped when events are already there).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEmbeddedBus } from '../packages/bus/dist/index.js';
import { topics } from '../packages/core/dist/index.js';
import { createClickHouseWarehouse } from '../packages/warehouse/dist/index.js';
import { createTagEngineRunner } from '../services/tag-engine/dist/index.js';
import { quiet, writeResults } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const ownDir = process.env.BENCH_DATA_DIR === undefined;
const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cdp-bench-tags-'));
const OPTIMIZE = process.argv.includes('--optimize');

const CATS = "['shoes','shirts','bags','hats','socks','jackets','watches','toys']";
const CH =
  "['Direct','Organic Search','Paid Search','Email','Organic Social','Referral','Display','Affiliates']";
// Per event n: person p = n % PEOPLE, k-th event of the person; the person's
// events spread over 300 days before now, k-th about 3k days after the first.
// 50% page views, 20% Product Viewed, 13% Product Added, 8% Checkout
// Started, 5% Signed Up, 4% Order Completed (revenue 10-409, a category, a
// coupon on one in four). 20% of people have their first three events under
// a provisional id that OneID merged later (a person_overrides row).
const generator = (from, count, now, idPrefix) => `
INSERT INTO events (message_id, source_id, type, event, name, anonymous_id, user_id, one_id, group_id,
  previous_id, timestamp, received_at, clock_skew_flag, channel, utm_source, utm_medium, utm_campaign,
  utm_term, utm_content, page_url, page_path, referrer, ip, user_agent, is_bot, properties, traits, context)
SELECT concat('${idPrefix}', toString(n)), 'bench', if(r < 500, 'page', 'track'),
  multiIf(r < 500, '', r < 700, 'Product Viewed', r < 830, 'Product Added', r < 910, 'Checkout Started',
    r < 960, 'Signed Up', 'Order Completed') AS ev,
  if(r < 500, 'Home', ''), concat('a', toString(p)), '',
  if(p % 5 = 0 AND k < 3, concat('q', toString(p)), concat('p', toString(p))), '', '',
  ts, ts, '', ${CH}[cityHash64(p, k, 4) % 8 + 1], '', '', '', '', '', '', '', '', '', '', false,
  multiIf(ev = 'Order Completed', concat('{"revenue":', toString(10 + cityHash64(n, 3) % 400), ',"category":"',
      ${CATS}[cityHash64(p, k, 7) % 8 + 1], '"', if(cityHash64(n, 8) % 4 = 0, ',"coupon":"SAVE10"', ''), '}'),
    ev IN ('Product Viewed', 'Product Added'), concat('{"category":"', ${CATS}[cityHash64(p, k, 7) % 8 + 1],
      '","price":', toString(cityHash64(n, 3) % 300), '}'),
    '{}'),
  '{}', '{}'
FROM (
  SELECT n, p, k, r,
    least(fromUnixTimestamp64Milli(${now}, 'UTC'),
      fromUnixTimestamp64Milli(${now}, 'UTC') - toIntervalDay(300) + toIntervalSecond(cityHash64(p, 1) % (200 * 86400) + k * 3 * 86400 + cityHash64(n, 2) % 86400)) AS ts
  FROM (SELECT number AS n, number % ${PEOPLE} AS p, intDiv(number, ${PEOPLE}) AS k, cityHash64(number) % 1000 AS r
        FROM numbers(${from}, ${count})))`;

const fmtSteps = (s) =>
  Object.entries(s)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, node ${process.version}`,
);
console.log(
  `data: ${EVENTS} events, ${PEOPLE} people (20% merged from a provisional id), 300 days, 50% page views, 4% Order Completed with revenue, category and a coupon on one in four`,
);
const warehouse = await createClickHouseWarehouse({
  dataDir: join(dataDir, 'clickhouse'),
  database: 'cdp',
  logger: quiet,
});
const bus = await createEmbeddedBus({ dir: join(dataDir, 'bus'), logger: quiet });
try {
  await warehouse.migrate();
  const now = Date.now();
  const [have] = await warehouse.query('SELECT count() AS n FROM events');
  if (Number(have.n) < EVENTS) {
    const t = performance.now();
    await warehouse.command('TRUNCATE TABLE events');
    await warehouse.command(generator(0, EVENTS, now, 'm'));
    await warehouse.command(`INSERT INTO person_overrides (from_one_id, into_one_id, reason, version)
      SELECT concat('q', toString(number * 5)), concat('p', toString(number * 5)), 'identify', 1
      FROM numbers(${Math.ceil(PEOPLE / 5)})`);
    console.log(`generate ${EVENTS} events: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  for (const t of ['person_facts', 'person_tag_state', 'person_tags', 'tier_history', 'tag_runs'])
    await warehouse.command(`TRUNCATE TABLE ${t}`);
  if (OPTIMIZE) {
    const t = performance.now();
    await warehouse.command('OPTIMIZE TABLE events FINAL');
    console.log(`optimize events final: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const [parts] = await warehouse.query(
    "SELECT count() AS parts FROM system.parts WHERE database = 'cdp' AND table = 'events' AND active",
  );
  console.log(
    `events parts: ${parts.parts}${OPTIMIZE ? ' (optimized)' : ' (as loaded, unmerged)'}`,
  );

  const runner = createTagEngineRunner({
    warehouse,
    bus,
    topics: topics('cdp.'),
    logger: quiet,
    intervalMs: 60_000,
    partitions: 4,
    loadMarginMs: 0,
    schedule: false,
  });
  await runner.start();
  const run = async (label, { target, ...opts } = {}) => {
    const t = performance.now();
    const r = await runner.engine.run(opts);
    const ms = performance.now() - t;
    console.log(
      `${label.padEnd(40)} ${(ms / 1000).toFixed(2).padStart(6)} s  people ${r.people}, changes ${r.changes}, people changed ${r.peopleChanged}\n    steps (ms): ${fmtSteps(r.steps)}`,
    );
    figures.push({
      what: label,
      value: `${(ms / 1000).toFixed(1)} s (steps, ms: ${fmtSteps(r.steps)})`,
      ...(target ? { target } : {}),
    });
    return r;
  };
  const figures = [];
  await run('full run, cold (every value new)', { full: true });
  await run('full run, warm (same data: what a definition change costs)', {
    full: true,
    target: '8 s',
  });
  const t = performance.now();
  // 10,000 new events of 5,000 people (two each), as the loader would add them.
  await warehouse.command(
    generator(0, 10_000, Date.now(), 'new-').replace(
      'number % ' + PEOPLE + ' AS p',
      `(number % 5000) * ${Math.floor(PEOPLE / 5000)} AS p`,
    ),
  );
  console.log(`insert 10,000 new events: ${(performance.now() - t).toFixed(0)} ms`);
  await run('incremental run after 10,000 new events of 5,000 people', { target: '2 s' });
  await run('incremental run, nothing new');
  await runner.stop();
  writeResults(OPTIMIZE ? 'tags-optimized' : 'tags', {
    params: {
      events: EVENTS,
      people: PEOPLE,
      merged: '20% from a provisional id',
      eventsParts: `${parts.parts}${OPTIMIZE ? ' (optimized)' : ' (as loaded, unmerged)'}`,
    },
    figures,
  });
} finally {
  await bus.close();
  await warehouse.close();
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
}
