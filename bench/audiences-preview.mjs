// Audience preview benchmark: the issue's figure, "preview of a 5-condition
// audience (two tag conditions, two `performed` within 30 days with a
// property filter, one `not performed`) over 1,000,000 people / 10,000,000
// events: under 1 s", on embedded chDB. A preview is the member count and a
// sample of 20 ids, in one query over the SQL `compileAudience` makes.
// Prints figures; not a test.
//
//   npm run build && node bench/audiences-preview.mjs
//
// Figures: the first preview on the data as loaded (cold), the median of 5
// more (warm), and both again after OPTIMIZE ... FINAL of events,
// person_tags and person_overrides (as background merges eventually leave
// them). The events parts count is given for each. Figures also go to
// bench/results/audiences-preview.json.
//
// Env: BENCH_EVENTS (default 10000000), BENCH_PEOPLE (default 1000000),
// BENCH_RUNS (warm runs, default 5), BENCH_DATA_DIR (default: a fresh temp
// dir, removed; set it to keep the data between runs: the generator is
// skipped when the events are already there; the optimize step then merges
// them for good, so a kept dir is "as loaded" only on its first run).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileAudience, validateAudience } from '../packages/audiences/dist/index.js';
import { TABLES, createClickHouseWarehouse } from '../packages/warehouse/dist/index.js';
import { quiet, writeResults } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ownDir = process.env.BENCH_DATA_DIR === undefined;
const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cdp-bench-audiences-'));
// A fixed "now": the data is generated relative to it, so a kept data dir
// gives the same members on every run.
const NOW = Date.parse('2026-06-01T00:00:00Z');

const CATS = "['shoes','shirts','bags','hats','socks','jackets','watches','toys']";
const CH =
  "['Direct','Organic Search','Paid Search','Email','Organic Social','Referral','Display','Affiliates']";
const RFM = [
  'Champions',
  'Loyal',
  'Potential Loyalist',
  'New Customers',
  'Promising',
  'Need Attention',
  'About To Sleep',
  'At Risk',
  'Cannot Lose Them',
  'Hibernating',
];
const arr = (xs) => `[${xs.map((x) => `'${x}'`).join(',')}]`;

// Per event n: person p = n % PEOPLE, k-th event of the person (10 each at
// the defaults). A person is active for about a month somewhere in the year
// before NOW (first event 0-335 days after NOW - 365 days, then one every 3
// days), so the events fill 12 monthly partitions and about one person in
// eight is active in the last 30 days. 50% page views, 20% Product Viewed
// and 13% Product Added (a category and a price 0-299), 8% Checkout Started,
// 5% Signed Up, 4% Order Completed (revenue 10-409, a category, a coupon on
// one in four). 20% of people have their first three events under a
// provisional id that OneID merged later (a person_overrides row).
const generator = `
INSERT INTO events (message_id, source_id, type, event, name, anonymous_id, user_id, one_id, group_id,
  previous_id, timestamp, received_at, clock_skew_flag, channel, utm_source, utm_medium, utm_campaign,
  utm_term, utm_content, page_url, page_path, referrer, ip, user_agent, is_bot, properties, traits, context)
SELECT concat('m', toString(n)), 'bench', if(r < 500, 'page', 'track'),
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
    least(fromUnixTimestamp64Milli(${NOW}, 'UTC'),
      fromUnixTimestamp64Milli(${NOW}, 'UTC') - toIntervalDay(365) + toIntervalSecond(cityHash64(p, 1) % (335 * 86400) + k * 3 * 86400 + cityHash64(n, 2) % 86400)) AS ts
  FROM (SELECT number AS n, number % ${PEOPLE} AS p, intDiv(number, ${PEOPLE}) AS k, cityHash64(number) % 1000 AS r
        FROM numbers(${EVENTS})))`;
const overrides = `INSERT INTO person_overrides (from_one_id, into_one_id, reason, version)
  SELECT concat('q', toString(number * 5)), concat('p', toString(number * 5)), 'identify', 1
  FROM numbers(${Math.ceil(PEOPLE / 5)})`;
// rfm_group for 85% of people (one of ten segments), churn_risk for 90%
// (low 50%, medium 30%, high 20%), as the tag engine would have left them.
const tags = `INSERT INTO person_tags (person_id, tag, value, computed_at, version)
  SELECT concat('p', toString(p)), t, v, fromUnixTimestamp64Milli(${NOW}, 'UTC'), 1 FROM (
    SELECT number AS p, 'rfm_group' AS t, ${arr(RFM)}[cityHash64(number, 11) % 10 + 1] AS v
    FROM numbers(${PEOPLE}) WHERE cityHash64(number, 12) % 100 < 85
    UNION ALL
    SELECT number AS p, 'churn_risk' AS t,
      multiIf(cityHash64(number, 13) % 10 < 5, 'low', cityHash64(number, 13) % 10 < 8, 'medium', 'high') AS v
    FROM numbers(${PEOPLE}) WHERE cityHash64(number, 14) % 100 < 90)`;

// The audience: good RFM segments not at high churn risk who looked at
// shoes or bags and added something of 50 or more to a cart in the last 30
// days, and did not buy in that time.
const AUDIENCE = {
  conditions: {
    and: [
      {
        tag: {
          name: 'rfm_group',
          op: 'in',
          value: ['Champions', 'Loyal', 'Potential Loyalist', 'Need Attention'],
        },
      },
      { tag: { name: 'churn_risk', op: 'neq', value: 'high' } },
      {
        performed: {
          event: 'Product Viewed',
          within: { days: 30 },
          where: [{ property: 'category', op: 'in', value: ['shoes', 'bags'] }],
        },
      },
      {
        performed: {
          event: 'Product Added',
          within: { days: 30 },
          where: [{ property: 'price', op: 'gte', value: 50 }],
        },
      },
      { not: { performed: { event: 'Order Completed', within: { days: 30 } } } },
    ],
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${Math.round(x).toLocaleString('en-US')} ms`;

console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, node ${process.version}`,
);
console.log(
  `data: ${EVENTS} events, ${PEOPLE} people (20% merged from a provisional id), 365 days, rfm_group for 85%, churn_risk for 90%`,
);
const warehouse = await createClickHouseWarehouse({
  dataDir: join(dataDir, 'clickhouse'),
  database: 'cdp',
  logger: quiet,
});
try {
  await warehouse.migrate();
  const [have] = await warehouse.query('SELECT count() AS n FROM events');
  if (Number(have.n) < EVENTS) {
    const t = performance.now();
    for (const x of ['events', 'person_overrides', 'person_tags'])
      await warehouse.command(`TRUNCATE TABLE ${x}`);
    await warehouse.command(generator);
    await warehouse.command(overrides);
    await warehouse.command(tags);
    console.log(`generate: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  validateAudience(AUDIENCE);
  const q = compileAudience(AUDIENCE.conditions, NOW, TABLES);
  if (process.argv.includes('--sql')) console.log(q.sql, q.params);
  const previewSql = `SELECT count() AS n, groupArray(20)(person_id) AS sample FROM (${q.sql})`;
  const preview = async () => {
    const t = performance.now();
    const [row] = await warehouse.query(previewSql, q.params);
    return { ms: performance.now() - t, n: Number(row.n), sample: row.sample };
  };
  const parts = async () => {
    const [r] = await warehouse.query(
      "SELECT count() AS parts, uniqExact(partition) AS partitions FROM system.parts WHERE database = 'cdp' AND table = 'events' AND active",
    );
    return `${r.parts} parts in ${r.partitions} partitions`;
  };

  const figures = [];
  const raw = {};
  const measure = async (label, target) => {
    const p = await parts();
    const cold = await preview();
    const warm = [];
    for (let i = 0; i < RUNS; i++) warm.push((await preview()).ms);
    const w = median(warm);
    console.log(
      `${label}: events ${p}; members ${cold.n}; cold ${ms(cold.ms)}; warm median ${ms(w)} (${warm.map(ms).join(', ')})`,
    );
    figures.push(
      { what: `preview, ${label}, cold (first query; events ${p})`, value: ms(cold.ms), target },
      { what: `preview, ${label}, warm (median of ${RUNS})`, value: ms(w), target },
    );
    raw[label] = { parts: p, members: cold.n, coldMs: cold.ms, warmMs: warm };
    return cold;
  };

  const before = await measure('as loaded', '1 s');
  console.log(`members: ${before.n}, sample: ${before.sample.slice(0, 5).join(', ')}, ...`);
  const t = performance.now();
  for (const x of ['events', 'person_tags', 'person_overrides'])
    await warehouse.command(`OPTIMIZE TABLE ${x} FINAL`);
  console.log(`optimize final: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const after = await measure('after OPTIMIZE FINAL', '1 s');
  if (after.n !== before.n) throw new Error(`members ${before.n} before optimize, ${after.n} after`);

  writeResults('audiences-preview', {
    params: {
      events: EVENTS,
      people: PEOPLE,
      merged: '20% from a provisional id',
      span: '365 days, 12 monthly partitions',
      audience:
        'rfm_group in 4 segments AND churn_risk != high AND Product Viewed (category in shoes, bags) within 30 days AND Product Added (price >= 50) within 30 days AND NOT Order Completed within 30 days',
      members: before.n,
      preview: 'count() and groupArray(20)(person_id) over the compiled query',
      warmRuns: RUNS,
    },
    figures,
    raw,
  });
} finally {
  await warehouse.close();
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
}
