// SQL choices the analytics queries make, each timed against the plainer
// query it replaced, on the data of bench/analytics-e2e.mjs (embedded chDB):
//
// - `EVENTS_SCAN_SETTINGS_SQL` (packages/warehouse/src/tables.ts): the
//   funnel and the attribution SQL with and without
//   `do_not_merge_across_partitions_select_final = 1`;
// - `eventsByPersonSql` (tables.ts): the funnel reading
//   `events_by_person` filtered inside (as it does) or the view filtered
//   outside;
// - `eventLabelIsSql` (packages/analytics/src/filters.ts): the funnel's step
//   conditions as per-column comparisons (as they are) or
//   `EVENT_LABEL_SQL = {param}`.
//
// Each pair runs alternately, on the parts as loaded and after OPTIMIZE
// TABLE events FINAL. Prints figures and writes them to
// bench/results/sql-variants.json; not a test.
//
//   npm run build && node bench/sql-variants.mjs
//
// Env: BENCH_EVENTS (default 10000000), BENCH_PEOPLE (default 1000000),
// BENCH_RUNS (default 5).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createClickHouseWarehouse,
  EVENTS_SCAN_SETTINGS_SQL,
  eventsByPersonSql,
} from '../packages/warehouse/dist/index.js';
import {
  buildAttributionSql,
  EVENT_LABEL_SQL,
  eventLabelIsSql,
  parseAttributionQuery,
  parseFunnelRequest,
} from '../packages/analytics/dist/index.js';
import { analyticsDataSql, FUNNEL } from './analytics-data.mjs';
import { quiet, writeResults } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const dataDir = mkdtempSync(join(tmpdir(), 'cdp-bench-sql-variants-'));
const range = { from: '2024-01-01', to: '2024-03-10' };

const funnel = parseFunnelRequest({
  steps: FUNNEL.map((event) => ({ event })),
  windowSeconds: 86_400,
  ...range,
}).query;
const attribution = buildAttributionSql(
  parseAttributionQuery({ ...range, limit: '10' }, Date.parse('2024-03-15T00:00:00Z')),
);

const replaceOnce = (sql, from, to) => {
  if (!sql.includes(from)) throw new Error(`not in the SQL: ${from.slice(0, 80)}`);
  return sql.replace(from, () => to);
};
const withoutSettings = (sql) => replaceOnce(sql, EVENTS_SCAN_SETTINGS_SQL, '');
// The funnel's eventsByPersonSql(<where>) subquery, with <where> taken out.
const [before, after] = eventsByPersonSql('\u0000').split('\u0000');
const throughView = (sql) => {
  const i = sql.indexOf(before);
  const j = sql.indexOf(after, i + before.length);
  if (i < 0 || j < 0) throw new Error('eventsByPersonSql not found in the funnel SQL');
  const where = sql.slice(i + before.length, j);
  return `${sql.slice(0, i)}(SELECT * FROM events_by_person WHERE ${where})${sql.slice(j + after.length)}`;
};
const labelBuilt = (sql) =>
  FUNNEL.reduce(
    (s, _, k) =>
      replaceOnce(
        s,
        eventLabelIsSql(`{s${k}_event:String}`),
        `${EVENT_LABEL_SQL} = {s${k}_event:String}`,
      ),
    sql,
  );

const pairs = [
  {
    what: 'funnel, 5 steps: `EVENTS_SCAN_SETTINGS_SQL` (as shipped) vs without',
    a: funnel,
    b: { ...funnel, sql: withoutSettings(funnel.sql) },
  },
  {
    what: 'attribution SQL: `EVENTS_SCAN_SETTINGS_SQL` (as shipped) vs without',
    a: attribution,
    b: { ...attribution, sql: withoutSettings(attribution.sql) },
  },
  {
    what: 'funnel, 5 steps: `eventsByPersonSql` (as shipped) vs the `events_by_person` view',
    a: funnel,
    b: { ...funnel, sql: throughView(funnel.sql) },
  },
  {
    what: 'funnel, 5 steps: `eventLabelIsSql` (as shipped) vs `EVENT_LABEL_SQL = {param}`',
    a: funnel,
    b: { ...funnel, sql: labelBuilt(funnel.sql) },
  },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      ' ',
    )}, node ${process.version}; ${EVENTS} events, ${PEOPLE} people (--data sessions of bench/analytics-e2e.mjs), ${RUNS} runs of each, alternating`,
);
const warehouse = await createClickHouseWarehouse({
  dataDir: join(dataDir, 'clickhouse'),
  database: 'cdp',
  logger: quiet,
});
const figures = [];
try {
  await warehouse.migrate();
  const { generator, overrides } = analyticsDataSql({
    events: EVENTS,
    people: PEOPLE,
    data: 'sessions',
  });
  await warehouse.command(generator);
  await warehouse.command(overrides);
  const parts = async () =>
    Number(
      (
        await warehouse.query(
          "SELECT count() AS n FROM system.parts WHERE database = 'cdp' AND table = 'events' AND active",
        )
      )[0].n,
    );
  const time = async (q) => {
    const t = performance.now();
    const rows = await warehouse.query(q.sql, q.params);
    return { ms: performance.now() - t, rows: JSON.stringify(rows).length };
  };
  const phase = async (label) => {
    const n = await parts();
    console.log(`-- ${label}: ${n} active parts of events`);
    for (const p of pairs) {
      await time(p.a); // warm-up
      await time(p.b);
      const a = [];
      const b = [];
      for (let i = 0; i < RUNS; i++) {
        const first = i % 2 === 0 ? p.a : p.b;
        const x = await time(first);
        const y = await time(first === p.a ? p.b : p.a);
        (first === p.a ? a : b).push(x.ms);
        (first === p.a ? b : a).push(y.ms);
      }
      const ma = median(a);
      const mb = median(b);
      const line = `${s(ma)} vs ${s(mb)} (${ma <= mb ? `${s(mb - ma)} less` : `${s(ma - mb)} more`})`;
      console.log(
        `${p.what}: ${line}; runs ${a.map((x) => x.toFixed(0))} vs ${b.map((x) => x.toFixed(0))}`,
      );
      figures.push({ what: `${p.what}, ${label} (${n} parts)`, value: line });
    }
  };
  await phase('unmerged');
  await warehouse.command('OPTIMIZE TABLE events FINAL');
  await phase('after OPTIMIZE FINAL');
  writeResults('sql-variants', {
    params: {
      data: 'sessions (bench/analytics-e2e.mjs)',
      events: EVENTS,
      people: PEOPLE,
      runs: RUNS,
      timing: `median of ${RUNS} runs of each, alternating, after one warm-up`,
    },
    figures,
  });
} finally {
  await warehouse.close();
  rmSync(dataDir, { recursive: true, force: true });
}
