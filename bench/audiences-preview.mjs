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
import { NOW, loadAudienceData } from './audiences-data.mjs';
import { quiet, writeResults } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ownDir = process.env.BENCH_DATA_DIR === undefined;
const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cdp-bench-audiences-'));
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
  const generated = await loadAudienceData(warehouse, { events: EVENTS, people: PEOPLE });
  if (generated > 0) console.log(`generate: ${generated.toFixed(1)} s`);

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
  if (after.n !== before.n)
    throw new Error(`members ${before.n} before optimize, ${after.n} after`);

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
