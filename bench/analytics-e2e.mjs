// Analytics end-to-end benchmark: attribution (all models) and a 5-step
// funnel over 10,000,000 events of 1,000,000 people on embedded chDB, through
// the same service the API uses (SQL in ClickHouse, models in Node).
// Prints figures; not a test.
//
//   npx tsc -b services/api && node bench/analytics-e2e.mjs [--data sessions|random-touch]
//
// Env: BENCH_EVENTS (default 10000000), BENCH_PEOPLE (default 1000000),
// BENCH_RUNS (default 3), BENCH_DATA_DIR (default: a fresh temp dir, removed).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClickHouseWarehouse } from '../packages/warehouse/dist/index.js';
import { buildAttributionSql, parseAttributionQuery } from '../packages/analytics/dist/index.js';
import { createAnalyticsService } from '../services/api/dist/index.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ownDir = process.env.BENCH_DATA_DIR === undefined;
const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cdp-bench-analytics-'));
const START = '2024-01-01 00:00:00';
const SPAN_DAYS = 60;
const CHANNELS = [
  'Direct',
  'Organic Search',
  'Paid Search',
  'Email',
  'Organic Social',
  'Referral',
  'Display',
  'Affiliates',
];
const PAGES = ['Home', 'Product', 'Cart', 'Checkout'];
const FUNNEL = [
  'Product Viewed',
  'Product Added',
  'Checkout Started',
  'Payment Info Entered',
  'Order Completed',
];

const quiet = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child() {
    return quiet;
  },
};
const arr = (xs) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

// Per event n: person p = n % PEOPLE, k-th event of the person = n / PEOPLE
// (10 each). r picks the kind: 50% page views, then the funnel events, 3%
// Order Completed with revenue 10..209. 20% of people have their first three
// events under a provisional id that OneID later merged (a person_overrides
// row), so attribution and funnels resolve people through the real view.
//
// --data sessions (default): people come back in 1-5 visits (40% one visit
// of 10 events, 25% two of 5, 15% three of 4, 10% four of 3, 10% five of 2),
// two days apart plus up to a day, events a minute apart within a visit.
// Each visit lands from one channel (Direct 30%, Organic Search 25%, Paid
// Search 12%, Email 10%, Organic Social 8%, Referral 7%, Display 5%,
// Affiliates 3%) and all its events carry it, as the SDK keeps the campaign
// for the session; paid channels carry a utm_source.
// --data random-touch: the worst case for attribution: every event has a
// random channel (uniform over the 8), 10 minutes apart plus 0-2 days, so
// almost every event starts a session and most paths are distinct.
const DATA = process.argv.includes('--data')
  ? process.argv[process.argv.indexOf('--data') + 1]
  : 'sessions';
if (DATA !== 'sessions' && DATA !== 'random-touch')
  throw new Error('--data must be sessions or random-touch');
const WEIGHTS = [30, 25, 12, 10, 8, 7, 5, 3];
let acc = 0;
const weighted = (h) =>
  `multiIf(${CHANNELS.map((c, i) => `${h} < ${(acc += WEIGHTS[i])}, '${c}'`).join(', ')}, 'Direct')`;
const SOURCES =
  DATA === 'sessions'
    ? `SELECT n, p, k, r, ${weighted('cityHash64(p, s, 4) % 100')} AS ch,
      cityHash64(p, 1) % ${SPAN_DAYS * 86400} + s * 172800 + cityHash64(p, s, 6) % 86400 + (k % L) * 60 AS sec
    FROM (
      SELECT n, p, k, r, L, intDiv(k, L) AS s FROM (
        SELECT number AS n, number % ${PEOPLE} AS p, intDiv(number, ${PEOPLE}) AS k,
          cityHash64(number) % 1000 AS r, cityHash64(p, 5) % 100 AS v,
          multiIf(v < 40, 10, v < 65, 5, v < 80, 4, v < 90, 3, 2) AS L
        FROM numbers(${EVENTS})))`
    : `SELECT number AS n, number % ${PEOPLE} AS p, intDiv(number, ${PEOPLE}) AS k,
      cityHash64(number) % 1000 AS r, ${arr(CHANNELS)}[cityHash64(number, 4) % ${CHANNELS.length} + 1] AS ch,
      cityHash64(p, 1) % ${SPAN_DAYS * 86400} + k * 600 + (cityHash64(n, 2) % 3) * 86400 AS sec
    FROM numbers(${EVENTS})`;
const GENERATOR = `
INSERT INTO events (message_id, source_id, type, event, name, anonymous_id, user_id, one_id,
  group_id, previous_id, timestamp, received_at, clock_skew_flag, channel, utm_source, utm_medium,
  utm_campaign, utm_term, utm_content, page_url, page_path, referrer, ip, user_agent, is_bot,
  properties, traits, context)
SELECT
  toString(n), 'bench', if(r < 500, 'page', 'track'),
  multiIf(r < 500, '', r < 700, '${FUNNEL[0]}', r < 830, '${FUNNEL[1]}', r < 910, '${FUNNEL[2]}', r < 970, '${FUNNEL[3]}', '${FUNNEL[4]}') AS ev,
  if(r < 500, ${arr(PAGES)}[k % 4 + 1], ''),
  concat('a', toString(p)), '', if(p % 5 = 0 AND k < 3, concat('q', toString(p)), concat('p', toString(p))), '', '',
  toDateTime64('${START}', 3, 'UTC') + toIntervalSecond(sec),
  now64(3), '', ch,
  if(ch IN ('Email', 'Paid Search', 'Display', 'Affiliates'), lower(replaceAll(ch, ' ', '_')), ''), '', '', '', '',
  '', '', '', '', '', false,
  if(ev = 'Order Completed', concat('{"revenue":', toString(10 + cityHash64(n, 3) % 200), '}'), '{}'),
  '{}', '{}'
FROM (${SOURCES})`;
const OVERRIDES = `
INSERT INTO person_overrides (from_one_id, into_one_id, reason, version)
SELECT concat('q', toString(number * 5)), concat('p', toString(number * 5)), 'identify', 1
FROM numbers(${Math.ceil(PEOPLE / 5)})`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(label, fn) {
  const ms = [];
  let out;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    out = await fn();
    ms.push(performance.now() - t);
  }
  console.log(
    `${label.padEnd(44)} median ${median(ms).toFixed(0).padStart(6)} ms  runs ${ms.map((x) => x.toFixed(0)).join(', ')}`,
  );
  return { ms: median(ms), out };
}

console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, node ${process.version}`,
);
console.log(
  `generator (--data ${DATA}): ${EVENTS} events, ${PEOPLE} people (20% merged from a provisional id), ${SPAN_DAYS} days from ${START} UTC, channels ${CHANNELS.join('/')}, 50% pages, funnel events, ~3% ${FUNNEL[4]}`,
);
const warehouse = await createClickHouseWarehouse({
  dataDir: join(dataDir, 'clickhouse'),
  database: 'cdp',
  logger: quiet,
});
try {
  await warehouse.migrate();
  let t = performance.now();
  await warehouse.command(GENERATOR);
  await warehouse.command(OVERRIDES);
  console.log(`insert ${EVENTS} rows: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  await warehouse.command('OPTIMIZE TABLE events FINAL');
  console.log(`optimize final: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const [stats] = await warehouse.query(
    "SELECT count() AS events, uniqExact(person_id) AS people, countIf(event = 'Order Completed') AS orders FROM events_by_person",
  );
  console.log(`stored: ${JSON.stringify(stats)}`);

  const service = createAnalyticsService({
    warehouse,
    now: () => Date.parse('2024-03-15T00:00:00Z'),
  });
  const range = { from: '2024-01-01', to: '2024-03-10' };
  const q = parseAttributionQuery({ ...range, limit: '10' }, Date.now());
  const { sql, params } = buildAttributionSql(q);
  const sqlOnly = await time('attribution SQL only (distinct paths)', () =>
    warehouse.query(sql, params),
  );
  console.log(`  distinct paths: ${sqlOnly.out.length}`);
  const attr = await time('attribution, all 9 models (API service)', () =>
    service.attribution({ ...range, limit: '10' }),
  );
  console.log(`  totals: ${JSON.stringify(attr.out.totals)}`);
  const funnel = await time('funnel, 5 steps, 1 day window', () =>
    service.funnel({ steps: FUNNEL.map((event) => ({ event })), windowSeconds: 86_400, ...range }),
  );
  console.log(`  people per step: ${funnel.out.steps.map((s) => s.people).join(' > ')}`);
  console.log(
    `targets: attribution < 5000 ms: ${attr.ms < 5000 ? 'met' : 'MISSED'}; funnel < 2000 ms: ${funnel.ms < 2000 ? 'met' : 'MISSED'}`,
  );
} finally {
  await warehouse.close();
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
}
