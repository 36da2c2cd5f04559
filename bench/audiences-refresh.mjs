// Audience refresh benchmark: issue 12's second set of figures, on 2 cores
// and embedded chDB. Prints figures; not a test.
//
//   npm run build && node bench/audiences-refresh.mjs
//
// 1. "Incremental refresh of 20 audiences after 10,000 new events: under
//    5 s." The data of bench/audiences-preview.mjs (bench/audiences-data.mjs:
//    1,000,000 people, 10,000,000 events, merges, rfm_group and churn_risk
//    tags), plus identify calls with traits for 30% of people and their
//    identifiers (anonymous id for all, user id for 40%, so that runs send
//    Audience Entered / Exited). 20 audiences of every kind of condition
//    are created through `createAudienceService` (chDB warehouse, embedded
//    bus, an event sink that only counts) and run by one schedule tick
//    (`runDue`: one after the other, then one sweep of old sets; the first
//    round is full and every member enters); then 10,000 new events (7,000
//    of existing people, 3,000 of 1,000 new ones; loaded 2 s after their
//    time) go in and the next tick runs the 20 again, the clock 60 s later
//    (one refresh interval): incremental runs, re-evaluating the people of
//    the new events, of events a window's edge passed over in those 60 s,
//    and of tags written since (the generated tags are an hour old). Each
//    warehouse call of a run is timed and put in a step (candidates, the
//    query into audience_snapshots, the diff into audience_members, the
//    publish pages, the sweep, bookkeeping), and each compiled query is
//    timed again alone, in full (count()), for comparison.
// 2. "A person who qualifies appears in audience_members within 70 s on the
//    default schedule." The all-in-one platform in this process, as
//    `npm start` runs it (default CDP_AUDIENCES_TICK_MS, refresh 60 s), on a
//    small dataset sent through ingest: an audience is created, its first
//    scheduled run awaited, and right after it (the worst moment: a whole
//    interval to wait) a qualifying event is sent through ingest HTTP; the
//    time until the person is in audience_members is measured (SQL polled
//    every 250 ms). Repeated BENCH_REPEATS times (default 3).
//
// Env: BENCH_EVENTS (default 10000000), BENCH_PEOPLE (default 1000000),
// BENCH_NEW_EVENTS (default 10000), BENCH_REPEATS (default 3),
// BENCH_DATA_DIR (default: a fresh temp dir, removed; kept data skips the
// generator), BENCH_NOTE. `--only=refresh` or `--only=schedule` runs one
// part (the results file then has that part's figures only).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileAudience } from '@cdp/audiences';
import { createEmbeddedBus } from '@cdp/bus';
import { createAudienceService } from '@cdp/segment-exporter';
import { TABLES, createClickHouseWarehouse } from '@cdp/warehouse';
import { loadRunnerConfig, startPlatform } from '../packages/platform/dist/platform.js';
import { CATS, NOW, loadAudienceData } from './audiences-data.mjs';
import { quiet, sleep, writeResults } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const NEW_EVENTS = Number(process.env.BENCH_NEW_EVENTS ?? 10_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const ownDir = process.env.BENCH_DATA_DIR === undefined;
const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cdp-bench-refresh-'));

/** How the runs of a round evaluated: "20 incremental, 41,230 candidates in all". */
const modes = (per) => {
  const inc = per.filter((p) => p.mode === 'incremental');
  const cands = inc.reduce((x, p) => x + (p.candidates ?? 0), 0);
  return [
    inc.length > 0
      ? `${inc.length} incremental, ${cands.toLocaleString('en-US')} candidates in all`
      : '',
    per.length > inc.length ? `${per.length - inc.length} full` : '',
  ]
    .filter(Boolean)
    .join(', ');
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${Math.round(x).toLocaleString('en-US')} ms`;
const s = (x) => `${(x / 1000).toFixed(1)} s`;

console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, node ${process.version}`,
);

const COLUMNS = `message_id, source_id, type, event, name, anonymous_id, user_id, one_id, group_id,
  previous_id, timestamp, received_at, clock_skew_flag, channel, utm_source, utm_medium, utm_campaign,
  utm_term, utm_content, page_url, page_path, referrer, ip, user_agent, is_bot, properties, traits, context, loaded_at`;
// Identify calls of 30% of people (plan free 60% / pro 30% / enterprise
// 10%; a country), at some time in the year before NOW.
const identifies = `INSERT INTO events (${COLUMNS})
  SELECT concat('i', toString(p)), 'bench', 'identify', '', '', concat('a', toString(p)), '', concat('p', toString(p)), '', '',
    ts, ts, '', '', '', '', '', '', '', '', '', '', '', '', false, '{}',
    concat('{"plan":"', multiIf(cityHash64(p, 22) % 10 < 6, 'free', cityHash64(p, 22) % 10 < 9, 'pro', 'enterprise'),
      '","country":"', ['US','DE','FR','GB','ES','IT','NL','SE'][cityHash64(p, 23) % 8 + 1], '"}'), '{}', ts
  FROM (SELECT number AS p, fromUnixTimestamp64Milli(${NOW}, 'UTC') - toIntervalSecond(cityHash64(number, 24) % (365 * 86400)) AS ts
        FROM numbers(${PEOPLE}) WHERE cityHash64(number, 21) % 10 < 3)`;
// Identifiers: an anonymous id for every person, a user id for 40%.
const identities = `INSERT INTO identities (id_type, id_value, one_id, first_seen, last_seen, version)
  SELECT 'anonymous_id', concat('a', toString(number)), concat('p', toString(number)), now64(3), now64(3), 1 FROM numbers(${PEOPLE})
  UNION ALL
  SELECT 'user_id', concat('u', toString(number)), concat('p', toString(number)), now64(3), now64(3), 1
  FROM numbers(${PEOPLE}) WHERE cityHash64(number, 25) % 10 < 4`;
// The new events, in the 60 s after NOW: 70% of existing people (random
// ones), 30% of 1,000 new people (p >= PEOPLE, no tags, no identify). 40%
// Product Viewed, 25% Product Added, 15% Checkout Started, 15% Order
// Completed, 5% Signed Up.
const newEvents = (first, n) => `INSERT INTO events (${COLUMNS})
  SELECT concat('n', toString(n)), 'bench', 'track',
    multiIf(r < 40, 'Product Viewed', r < 65, 'Product Added', r < 80, 'Checkout Started', r < 95, 'Order Completed', 'Signed Up') AS ev,
    '', concat('a', toString(p)), '', concat('p', toString(p)), '', '', ts, ts, '', 'Direct', '', '', '', '', '', '', '', '', '', '', false,
    multiIf(ev = 'Order Completed', concat('{"revenue":', toString(10 + cityHash64(n, 33) % 400), ',"category":"',
        ${CATS}[cityHash64(n, 34) % 8 + 1], '"', if(cityHash64(n, 35) % 4 = 0, ',"coupon":"SAVE10"', ''), '}'),
      ev IN ('Product Viewed', 'Product Added'), concat('{"category":"', ${CATS}[cityHash64(n, 34) % 8 + 1],
        '","price":', toString(cityHash64(n, 36) % 300), '}'),
      '{}'),
    '{}', '{}', ts + toIntervalSecond(2)
  FROM (SELECT n, if(n % 10 < 7, cityHash64(n, 31) % ${PEOPLE}, ${PEOPLE} + n % 1000) AS p, cityHash64(n, 32) % 100 AS r,
          fromUnixTimestamp64Milli(${NOW}, 'UTC') + toIntervalMillisecond(cityHash64(n, 37) % 60000) AS ts
        FROM (SELECT ${first} + number AS n FROM numbers(${n})))`;

const perf = (event, within, where) => ({
  performed: { event, ...(within ? { within } : {}), ...(where ? { where } : {}) },
});
const tag = (name, op, value) => ({ tag: { name, op, ...(value === undefined ? {} : { value }) } });
const trait = (name, op, value) => ({ trait: { name, op, value } });
const d7 = { days: 7 };
const d30 = { days: 30 };
/** 20 audiences over every kind of condition. */
const AUDIENCES = [
  [
    'champions_buying',
    { and: [tag('rfm_group', 'in', ['Champions', 'Loyal']), perf('Order Completed', d30)] },
  ],
  ['high_churn_viewers_7d', { and: [tag('churn_risk', 'eq', 'high'), perf('Product Viewed', d7)] }],
  [
    'shoes_bags_cart_no_order',
    {
      and: [
        tag('rfm_group', 'in', ['Champions', 'Loyal', 'Potential Loyalist', 'Need Attention']),
        tag('churn_risk', 'neq', 'high'),
        perf('Product Viewed', d30, [{ property: 'category', op: 'in', value: ['shoes', 'bags'] }]),
        perf('Product Added', d30, [{ property: 'price', op: 'gte', value: 50 }]),
        { not: perf('Order Completed', d30) },
      ],
    },
  ],
  [
    'big_spenders_30d',
    {
      performed: {
        event: 'Order Completed',
        within: d30,
        aggregate: { fn: 'sum', property: 'revenue', op: 'gte', value: 300 },
      },
    },
  ],
  [
    'coupon_buyers_30d',
    perf('Order Completed', d30, [{ property: 'coupon', op: 'eq', value: 'SAVE10' }]),
  ],
  ['repeat_buyers', { performed: { event: 'Order Completed', count: { op: 'gte', value: 2 } } }],
  [
    'lapsed_buyers',
    { stopped: { event: 'Order Completed', before: { days: 30 }, not_within: { days: 30 } } },
  ],
  ['first_order_7d', { first_time: { event: 'Order Completed', within: d7 } }],
  [
    'cart_then_order_1d',
    {
      sequence: {
        steps: [{ event: 'Product Added' }, { event: 'Order Completed' }],
        within: { days: 1 },
      },
    },
  ],
  [
    'checkout_abandoned_7d',
    { and: [perf('Checkout Started', d7), { not: perf('Order Completed', d7) }] },
  ],
  ['plan_pro', trait('plan', 'eq', 'pro')],
  [
    'enterprise_us_viewers',
    {
      and: [
        trait('plan', 'eq', 'enterprise'),
        trait('country', 'eq', 'US'),
        perf('Product Viewed', d30),
      ],
    },
  ],
  [
    'at_risk',
    {
      or: [
        tag('rfm_group', 'in', ['At Risk', 'Cannot Lose Them']),
        { and: [tag('churn_risk', 'eq', 'high'), { not: perf('Order Completed', d30) }] },
      ],
    },
  ],
  ['signed_up_7d', perf('Signed Up', d7)],
  ['untagged_viewers_30d', { and: [tag('rfm_group', 'not_exists'), perf('Product Viewed', d30)] }],
  [
    'cheap_bags_viewers_30d',
    perf('Product Viewed', d30, [
      { property: 'category', op: 'eq', value: 'bags' },
      { property: 'price', op: 'lt', value: 100 },
    ]),
  ],
  [
    'watch_buyers_not_browsing',
    {
      and: [
        perf('Order Completed', undefined, [{ property: 'category', op: 'eq', value: 'watches' }]),
        { not: perf('Product Viewed', d30) },
      ],
    },
  ],
  [
    'medium_churn_high_order_30d',
    {
      and: [
        tag('churn_risk', 'eq', 'medium'),
        {
          performed: {
            event: 'Order Completed',
            within: d30,
            aggregate: { fn: 'max', property: 'revenue', op: 'gte', value: 200 },
          },
        },
      ],
    },
  ],
  ['added_to_cart_24h', perf('Product Added', { hours: 24 })],
  [
    'de_fr_not_hibernating_or_high_churn',
    {
      and: [
        trait('country', 'in', ['DE', 'FR']),
        { not: { or: [tag('rfm_group', 'eq', 'Hibernating'), tag('churn_risk', 'eq', 'high')] } },
      ],
    },
  ],
].map(([name, conditions]) => ({ name, definition: { conditions }, refresh: 60 }));

/** Which step of a run a warehouse call is. */
function stepOf(kind, sql, table) {
  if (kind === 'insert')
    return table === TABLES.audienceRuns ? 'run rows (audience_runs)' : `insert ${table}`;
  if (/INSERT INTO audience_candidates/.test(sql)) return 'candidates into audience_candidates';
  if (/INSERT INTO audience_snapshots/.test(sql)) return 'compiled query into audience_snapshots';
  if (/FROM audience_candidates/.test(sql)) return 'candidates into audience_candidates';
  if (/INSERT INTO audience_members/.test(sql)) return 'diff into audience_members';
  if (/DELETE FROM audience_snapshots/.test(sql))
    return /version = \{v:/.test(sql)
      ? "delete this version's half-written set (DELETE, a resumed run only)"
      : 'sweep of the sets no run needs (one DELETE per round)';
  if (/FROM \(SELECT DISTINCT audience, version FROM audience_snapshots\)/.test(sql))
    return 'sweep of the sets no run needs (one DELETE per round)';
  if (/uniqExactIf/.test(sql)) return 'counts';
  if (/SELECT DISTINCT person_id, change/.test(sql)) return 'publish: diff pages with identifiers';
  if (/FROM audience_runs/.test(sql)) return 'run rows (audience_runs)';
  if (/FROM audiences/.test(sql)) return 'definitions (audiences)';
  return 'other';
}

/** The warehouse, with each call's time added to `acc[step]`. */
function timed(wh, acc) {
  const add = (step, t) => (acc.steps[step] = (acc.steps[step] ?? 0) + performance.now() - t);
  return new Proxy(wh, {
    get(target, prop) {
      const v = target[prop];
      if (prop === 'query' || prop === 'command')
        return async (sql, params) => {
          const t = performance.now();
          try {
            return await v.call(target, sql, params);
          } finally {
            add(stepOf(prop, sql), t);
          }
        };
      if (prop === 'insert')
        return async (table, rows) => {
          const t = performance.now();
          try {
            return await v.call(target, table, rows);
          } finally {
            add(stepOf('insert', '', table), t);
          }
        };
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function refreshPart() {
  console.log(
    `data: ${EVENTS} events, ${PEOPLE} people (bench/audiences-data.mjs) + identify calls of 30%, identifiers of all`,
  );
  const warehouse = await createClickHouseWarehouse({
    dataDir: join(dataDir, 'clickhouse'),
    database: 'cdp',
    logger: quiet,
  });
  const bus = await createEmbeddedBus({ dir: join(dataDir, 'bus'), logger: quiet });
  try {
    await warehouse.migrate();
    const generated = await loadAudienceData(warehouse, { events: EVENTS, people: PEOPLE });
    const t0 = performance.now();
    const [idn] = await warehouse.query("SELECT count() AS n FROM events WHERE type = 'identify'");
    if (generated > 0 || Number(idn.n) === 0) await warehouse.command(identifies);
    const [ids] = await warehouse.query('SELECT count() AS n FROM identities');
    if (generated > 0 || Number(ids.n) === 0) await warehouse.command(identities);
    // A kept data dir: the last run's new events, audiences and runs go.
    await warehouse.command("DELETE FROM events WHERE startsWith(message_id, 'n')");
    for (const x of [
      'audiences',
      'audience_snapshots',
      'audience_candidates',
      'audience_members',
      'audience_runs',
    ])
      await warehouse.command(`TRUNCATE TABLE ${x}`);
    console.log(`generate: ${(generated + (performance.now() - t0) / 1000).toFixed(1)} s`);
    const [count] = await warehouse.query(
      "SELECT count() AS n, countIf(type = 'identify') AS idn, uniqExact(one_id) AS people FROM events",
    );
    console.log(`events ${count.n} (identify ${count.idn}), people ${count.people}`);

    const topic = 'cdp.audiences.changes';
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    const acc = { steps: {} };
    let produced = 0;
    let tracked = 0;
    const timedBus = {
      produce: async (t, msgs) => {
        const t1 = performance.now();
        try {
          produced += msgs.length;
          return await bus.produce(t, msgs);
        } finally {
          acc.steps['publish: bus produce'] =
            (acc.steps['publish: bus produce'] ?? 0) + performance.now() - t1;
        }
      },
    };
    const sinkCalls = { n: 0 };
    let clock = NOW;
    const service = createAudienceService({
      warehouse: timed(warehouse, acc),
      bus: timedBus,
      changesTopic: topic,
      events: {
        track: async (calls) => {
          sinkCalls.n++;
          tracked += calls.length;
        },
      },
      logger: quiet,
      now: () => clock,
    });
    for (const a of AUDIENCES) await service.create(a);

    const round = async (label) => {
      acc.steps = {};
      produced = 0;
      tracked = 0;
      sinkCalls.n = 0;
      const t = performance.now();
      // The schedule's tick: every audience due runs, one after the other,
      // then one sweep of the sets no run needs.
      const ran = await service.runDue();
      const total = performance.now() - t;
      if (ran !== AUDIENCES.length)
        throw new Error(`expected ${AUDIENCES.length} runs, ${ran} ran`);
      const stepsNow = { ...acc.steps };
      const per = [];
      for (const a of AUDIENCES) {
        const [run] = await service.runs(a.name, 1);
        per.push({
          audience: a.name,
          ms: run.durationMs,
          mode: run.mode,
          candidates: run.candidates,
          size: run.size,
          entered: run.entered,
          exited: run.exited,
        });
      }
      acc.steps = stepsNow;
      const steps = Object.fromEntries(
        Object.entries(acc.steps)
          .sort(([, x], [, y]) => y - x)
          .map(([k, v]) => [k, Math.round(v)]),
      );
      console.log(`${label}: ${s(total)} for ${AUDIENCES.length} audiences`);
      for (const p of per)
        console.log(
          `  ${p.audience.padEnd(38)} ${ms(p.ms).padStart(9)}  ${p.mode}${p.candidates === null ? '' : ` (${p.candidates} candidates)`}, size ${p.size}, +${p.entered} -${p.exited}`,
        );
      console.log(
        `  steps: ${Object.entries(steps)
          .map(([k, v]) => `${k} ${ms(v)}`)
          .join('; ')}`,
      );
      console.log(
        `  published: ${produced} change messages, ${tracked} events in ${sinkCalls.n} sink calls`,
      );
      return { totalMs: Math.round(total), per, steps, produced, tracked, sinkCalls: sinkCalls.n };
    };

    const first = await round('first round (every member enters)');
    const tIns = performance.now();
    await warehouse.command(newEvents(0, NEW_EVENTS));
    const insertMs = performance.now() - tIns;
    console.log(`${NEW_EVENTS} new events inserted in ${ms(insertMs)}`);
    clock = NOW + 60_000;
    const second = await round(`second round (after ${NEW_EVENTS} new events, clock +60 s)`);

    // Each compiled query alone, at the second round's time.
    const queryMs = [];
    for (const a of AUDIENCES) {
      const q = compileAudience(a.definition.conditions, clock, TABLES);
      const t = performance.now();
      await warehouse.query(
        `SELECT count() AS n FROM (${q.sql}) SETTINGS join_use_nulls = 0`,
        q.params,
      );
      queryMs.push({ audience: a.name, ms: Math.round(performance.now() - t) });
    }
    const queriesTotal = queryMs.reduce((x, y) => x + y.ms, 0);
    console.log(
      `compiled queries alone (count()): ${ms(queriesTotal)} in all; ${queryMs.map((q) => `${q.audience} ${q.ms}`).join(', ')}`,
    );
    const [parts] = await warehouse.query(
      "SELECT count() AS parts FROM system.parts WHERE database = 'cdp' AND table = 'events' AND active",
    );
    const top = [...second.per].sort((x, y) => y.ms - x.ms).slice(0, 3);
    const snap = second.steps['compiled query into audience_snapshots'] ?? 0;
    const figures = [
      {
        what: `refresh of ${AUDIENCES.length} audiences after ${NEW_EVENTS.toLocaleString('en-US')} new events (${modes(second.per)}; one schedule tick)`,
        value: s(second.totalMs),
        target: '5 s',
      },
      {
        what: 'per audience in that round: median / max',
        value: `${ms(median(second.per.map((p) => p.ms)))} / ${ms(Math.max(...second.per.map((p) => p.ms)))} (${top[0].audience})`,
      },
      {
        what: 'of the round: compiled query into audience_snapshots',
        value: `${ms(snap)} (${Math.round((100 * snap) / second.totalMs)}%)`,
      },
      {
        what: 'the 20 compiled queries alone (count(), no insert)',
        value: ms(queriesTotal),
      },
      ...Object.entries(second.steps)
        .filter(([k]) => k !== 'compiled query into audience_snapshots')
        .map(([k, v]) => ({
          what: `of the round: ${k}`,
          value: `${ms(v)} (${Math.round((100 * v) / second.totalMs)}%)`,
        })),
      {
        what: `first round (${AUDIENCES.length} audiences, every member enters: ${first.produced.toLocaleString('en-US')} changes published)`,
        value: s(first.totalMs),
      },
    ];
    return {
      params: {
        events: EVENTS,
        people: PEOPLE,
        extra: `identify calls (plan, country) of 30% of people; identifiers (anonymous id of all, user id of 40%); events table ${parts.parts} parts`,
        audiences: `${AUDIENCES.length}: ${AUDIENCES.map((a) => a.name).join(', ')}`,
        newEvents: `${NEW_EVENTS}: 70% of existing people, 30% of 1,000 new people, in the 60 s after the first round`,
        runs: 'service.runDue() (the schedule tick: every due audience one after the other, then one sweep); embedded bus; an event sink that counts',
      },
      figures,
      raw: { first, second, insertMs: Math.round(insertMs), queryMs, definitions: AUDIENCES },
    };
  } finally {
    await bus.close();
    await warehouse.close();
  }
}

async function schedulePart() {
  // Always a fresh platform (its first start creates the source and keys).
  const dir = mkdtempSync(join(tmpdir(), 'cdp-bench-refresh-platform-'));
  const platform = await startPlatform(
    loadRunnerConfig({ CDP_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }),
  );
  try {
    const url = platform.url;
    const created = platform.credentials.created;
    if (!created) throw new Error('expected a first start that creates the default source');
    const admin = {
      authorization: `Bearer ${platform.credentials.adminToken}`,
      'content-type': 'application/json',
    };
    const api = async (method, path, body) => {
      const r = await fetch(`${url}${path}`, {
        method,
        headers: admin,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : {};
    };
    const sql = async (query, params = {}) =>
      (await api('POST', '/v1/sql', { query, params })).rows;
    const send = async (batch) => {
      const r = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${created.writeKey}:`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ batch }),
      });
      const b = await r.json();
      if (r.status !== 200 || (b.rejected ?? []).length > 0)
        throw new Error(`batch: ${r.status} ${JSON.stringify(b)}`);
    };
    // A small dataset: 200 people, 5 events each, in the last days.
    const people = 200;
    const batch = [];
    for (let p = 0; p < people; p++) {
      batch.push({
        type: 'identify',
        userId: `user-${p}`,
        traits: { plan: p % 3 ? 'free' : 'pro' },
      });
      for (let k = 0; k < 4; k++)
        batch.push({
          type: 'track',
          userId: `user-${p}`,
          event: ['Product Viewed', 'Product Added', 'Order Completed'][k % 3],
          properties: { category: 'shoes', price: 10 * k },
          timestamp: new Date(Date.now() - (k + 1) * 3_600_000).toISOString(),
        });
    }
    for (let i = 0; i < batch.length; i += 500) await send(batch.slice(i, i + 500));
    for (;;) {
      const [r] = await sql("SELECT count() AS n FROM events WHERE startsWith(user_id, 'user-')");
      if (Number(r.n) >= batch.length) break;
      await sleep(250);
    }
    console.log(`schedule: ${batch.length} events of ${people} people in through ingest`);

    const reps = [];
    const tag = Math.random().toString(36).slice(2, 8);
    for (let i = 0; i < REPEATS; i++) {
      const name = `probe_${tag}_${i}`;
      const probe = `${tag}-${i}`;
      await api('POST', '/v1/audiences', {
        name,
        definition: {
          conditions: {
            performed: {
              event: 'Bench Probe',
              within: { days: 1 },
              where: [{ property: 'probe', op: 'eq', value: probe }],
            },
          },
        },
      });
      const tCreated = Date.now();
      let firstRun;
      for (;;) {
        const { runs } = await api('GET', `/v1/audiences/${name}/runs`);
        firstRun = runs.find((r) => r.status === 'done');
        if (firstRun) break;
        await sleep(250);
      }
      const firstRunAfter = Date.now() - tCreated;
      // Right after the first scheduled run: a whole interval to wait.
      const user = `user-${i * 7}`;
      const sent = Date.now();
      await send([{ type: 'track', userId: user, event: 'Bench Probe', properties: { probe } }]);
      let inEventsMs;
      let memberMs;
      while (memberMs === undefined) {
        await sleep(250);
        if (inEventsMs === undefined) {
          const rows = await sql(
            "SELECT 1 FROM events WHERE event = 'Bench Probe' AND JSONExtractString(properties, 'probe') = {p:String}",
            { p: probe },
          );
          if (rows.length > 0) inEventsMs = Date.now() - sent;
        }
        const rows = await sql(
          "SELECT person_id FROM audience_members WHERE audience = {a:String} AND change = 'entered'",
          { a: name },
        );
        if (rows.length > 0) memberMs = Date.now() - sent;
        if (Date.now() - sent > 300_000) throw new Error(`${name}: no member after 300 s`);
      }
      // The members are written before the run's row says done: wait for it.
      let entering;
      for (let k = 0; k < 40 && !entering; k++) {
        const { runs } = await api('GET', `/v1/audiences/${name}/runs`);
        entering = runs.find((r) => r.status === 'done' && r.entered > 0);
        if (!entering) await sleep(250);
      }
      const rep = {
        audience: name,
        firstRunAfterCreateMs: firstRunAfter,
        sentAfterFirstRunMs: sent - Date.parse(firstRun.finishedAt),
        inEventsMs,
        memberMs,
        enteringRun: entering && {
          version: entering.version,
          at: entering.at,
          durationMs: entering.durationMs,
          startedAfterSendMs: Date.parse(entering.startedAt) - sent,
        },
      };
      console.log(
        `  ${name}: first scheduled run ${ms(firstRunAfter)} after create; event queryable after ${ms(inEventsMs ?? NaN)}; member after ${s(memberMs)} (run v${entering?.version} started ${s(rep.enteringRun?.startedAfterSendMs ?? NaN)} after the send, took ${ms(entering?.durationMs ?? NaN)})`,
      );
      reps.push(rep);
      await api('DELETE', `/v1/audiences/${name}`);
    }
    const member = reps.map((r) => r.memberMs);
    return {
      params: {
        platform:
          'all-in-one in process (startPlatform), embedded bus and chDB, defaults: CDP_AUDIENCES_TICK_MS 5000, refresh 60 s, CDP_LOADER_FLUSH_MS 1000',
        dataset: `${batch.length} events of ${people} people through ingest`,
        probe: `right after the audience's first scheduled run, one qualifying event through POST /v1/batch; audience_members polled every 250 ms through /v1/sql; ${REPEATS} repeats`,
      },
      figures: [
        {
          what: `qualifying event to audience_members, default schedule: max of ${REPEATS}`,
          value: s(Math.max(...member)),
          target: '70 s',
        },
        {
          what: `qualifying event to audience_members: median of ${REPEATS}`,
          value: s(median(member)),
          target: '70 s',
        },
        {
          what: 'of which: event queryable in events (median)',
          value: ms(median(reps.map((r) => r.inEventsMs))),
        },
        {
          what: 'the run that adds it: duration (median)',
          value: ms(median(reps.map((r) => r.enteringRun?.durationMs ?? 0))),
        },
      ],
      raw: { reps },
    };
  } finally {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The 1-minute load average every 5 s: the machine is shared.
const load = [];
const loadTimer = setInterval(() => load.push(Number(loadavg()[0].toFixed(2))), 5000);
loadTimer.unref();
try {
  const results = { params: {}, figures: [], raw: {} };
  for (const [part, fn] of [
    ['refresh', refreshPart],
    ['schedule', schedulePart],
  ]) {
    if (only && only !== part) continue;
    const r = await fn();
    Object.assign(results.params, r.params);
    results.figures.push(...r.figures);
    results.raw[part] = r.raw;
  }
  clearInterval(loadTimer);
  results.raw.load1mEvery5s = load;
  console.log(`load average (1 min) during the run: ${Math.min(...load)}-${Math.max(...load)}`);
  writeResults('audiences-refresh', results);
} finally {
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
}
