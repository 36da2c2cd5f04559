// Analytics end-to-end benchmark: attribution (all models) and a 5-step
// funnel over 10,000,000 events of 1,000,000 people on embedded chDB, through
// the same service the API uses (SQL in ClickHouse, models in Node).
// Times the queries on the parts as loaded (before any merge: what a user sees
// right after loading) and again after OPTIMIZE TABLE events FINAL.
// Prints figures and writes them to bench/results/analytics-e2e-<data>.json;
// not a test.
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
import { analyticsDataSql, CHANNELS, FUNNEL, SPAN_DAYS, START } from './analytics-data.mjs';
import { quiet, writeResults } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ownDir = process.env.BENCH_DATA_DIR === undefined;
const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cdp-bench-analytics-'));
const DATA = process.argv.includes('--data')
  ? process.argv[process.argv.indexOf('--data') + 1]
  : 'sessions';
const { generator: GENERATOR, overrides: OVERRIDES } = analyticsDataSql({
  events: EVENTS,
  people: PEOPLE,
  data: DATA,
});

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
  const loadS = (performance.now() - t) / 1000;
  console.log(`insert ${EVENTS} rows: ${loadS.toFixed(1)} s`);
  const parts = async () => {
    const [row] = await warehouse.query(
      "SELECT count() AS parts FROM system.parts WHERE database = 'cdp' AND table = 'events' AND active",
    );
    return Number(row.parts);
  };
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
  const models = q.models.length;
  // The same queries twice: first on the parts as loaded (what a user sees
  // right after loading, before any merge), then after OPTIMIZE ... FINAL.
  const phase = async (label) => {
    const p = await parts();
    console.log(`-- ${label}: ${p} active parts of events`);
    const sqlOnly = await time('attribution SQL only (distinct paths)', () =>
      warehouse.query(sql, params),
    );
    console.log(`  distinct paths: ${sqlOnly.out.length}`);
    const attr = await time(`attribution, all ${models} models (API service)`, () =>
      service.attribution({ ...range, limit: '10' }),
    );
    console.log(`  totals: ${JSON.stringify(attr.out.totals)}`);
    const funnel = await time('funnel, 5 steps, 1 day window', () =>
      service.funnel({
        steps: FUNNEL.map((event) => ({ event })),
        windowSeconds: 86_400,
        ...range,
      }),
    );
    console.log(`  people per step: ${funnel.out.steps.map((s) => s.people).join(' > ')}`);
    console.log(
      `  targets: attribution < 5000 ms: ${attr.ms < 5000 ? 'met' : 'MISSED'}; funnel < 2000 ms: ${funnel.ms < 2000 ? 'met' : 'MISSED'}`,
    );
    return {
      parts: p,
      paths: sqlOnly.out.length,
      sqlMs: sqlOnly.ms,
      attrMs: attr.ms,
      funnelMs: funnel.ms,
    };
  };
  const unmerged = await phase('unmerged (as loaded)');
  t = performance.now();
  await warehouse.command('OPTIMIZE TABLE events FINAL');
  const optimizeS = (performance.now() - t) / 1000;
  console.log(`optimize final: ${optimizeS.toFixed(1)} s`);
  const merged = await phase('after OPTIMIZE TABLE events FINAL');

  const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const rows = (label, r) => [
    {
      what: `attribution SQL only (${r.paths.toLocaleString('en-US')} distinct paths), ${label}`,
      value: sec(r.sqlMs),
    },
    {
      what: `attribution, all ${models} models (API service), ${label}`,
      value: sec(r.attrMs),
      target: '< 5 s',
    },
    { what: `funnel, 5 steps, 1 day window, ${label}`, value: sec(r.funnelMs), target: '< 2 s' },
  ];
  writeResults(`analytics-e2e-${DATA}`, {
    params: {
      data: DATA,
      events: EVENTS,
      people: PEOPLE,
      merged: '20% from a provisional id',
      runs: RUNS,
      timing: `median of ${RUNS} runs`,
      loadSeconds: Number(loadS.toFixed(1)),
      optimizeSeconds: Number(optimizeS.toFixed(1)),
    },
    figures: [
      ...rows(`unmerged (${unmerged.parts} parts, as loaded)`, unmerged),
      ...rows(
        `after OPTIMIZE FINAL (${merged.parts} part${merged.parts === 1 ? '' : 's'})`,
        merged,
      ),
    ],
  });
} finally {
  await warehouse.close();
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
}
