// Warehouse insert benchmark: 1,000,000 synthetic rows into `events` on
// embedded chDB, in batches of 50,000, through the Warehouse port (JSONEachRow
// insert with a dedup token; the loader itself now inserts raw lines that a
// materialized view parses, see migration 004). Prints figures; not a test.
//
//   npx tsc -b packages/warehouse && node bench/warehouse-insert.mjs
//
// Env: BENCH_ROWS (default 1000000), BENCH_BATCH (default 50000),
// BENCH_DATA_DIR (default: a fresh temp dir, removed afterwards).
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClickHouseWarehouse, TABLES } from '../packages/warehouse/dist/index.js';
import { writeResults } from './lib.mjs';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 50_000);
const ownDir = process.env.BENCH_DATA_DIR === undefined;
const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cdp-bench-warehouse-'));

const CHANNELS = [
  'direct',
  'organic_search',
  'paid_search',
  'social',
  'email',
  'referral',
  'marketplace',
  'display',
];
const EVENTS = [
  'Page Viewed',
  'Product Viewed',
  'Product Added',
  'Checkout Started',
  'Order Completed',
];
const START = Date.parse('2024-01-01T00:00:00Z');
const SPAN = 90 * 24 * 3600 * 1000; // three months: four monthly partitions

function row(i) {
  const ts = START + Math.floor((i * 7919) % SPAN);
  const user = i % 5 === 0 ? `user-${i % 40_000}` : '';
  return {
    message_id: `msg-${i.toString(36)}-${(i * 2654435761) >>> 0}`,
    source_id: `src_${i % 5}`,
    type: i % 10 === 0 ? 'page' : 'track',
    event: EVENTS[i % EVENTS.length],
    name: '',
    anonymous_id: `anon-${i % 200_000}`,
    user_id: user,
    one_id: '',
    group_id: '',
    previous_id: '',
    timestamp: ts,
    received_at: ts + 250,
    sent_at: ts + 10,
    original_timestamp: null,
    clock_skew_flag: '',
    channel: CHANNELS[i % CHANNELS.length],
    utm_source: i % 3 === 0 ? 'newsletter' : '',
    utm_medium: i % 3 === 0 ? 'email' : '',
    utm_campaign: i % 3 === 0 ? 'spring-sale' : '',
    utm_term: '',
    utm_content: '',
    page_url: `https://shop.example/p/${i % 5000}`,
    page_path: `/p/${i % 5000}`,
    referrer: '',
    ip: `203.0.113.${i % 256}`,
    user_agent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    is_bot: i % 97 === 0,
    properties: `{"product_id":"sku-${i % 5000}","price":${(i % 20000) / 100},"currency":"EUR"}`,
    traits: '{}',
    context: '{"library":{"name":"analytics.js","version":"5.0.0"}}',
  };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

const wh = await createClickHouseWarehouse({ dataDir, database: 'bench' });
try {
  await wh.migrate();
  let insertMs = 0;
  const wallStart = performance.now();
  for (let offset = 0; offset < ROWS; offset += BATCH) {
    const n = Math.min(BATCH, ROWS - offset);
    const batch = new Array(n);
    for (let k = 0; k < n; k++) batch[k] = row(offset + k);
    const t0 = performance.now();
    await wh.insert(TABLES.events, batch, { dedupToken: `bench/${offset}` });
    insertMs += performance.now() - t0;
  }
  const wallMs = performance.now() - wallStart;

  const timed = async (sql) => {
    const t0 = performance.now();
    const rows = await wh.query(sql);
    return { rows, ms: performance.now() - t0 };
  };
  const plain = await timed(`SELECT count() AS c FROM ${TABLES.events}`);
  const final = await timed(`SELECT count() AS c FROM ${TABLES.events} FINAL`);
  const byChannel = await timed(
    `SELECT channel, count() AS events, uniqExact(anonymous_id) AS visitors FROM ${TABLES.events} GROUP BY channel ORDER BY events DESC`,
  );
  const [parts] = await wh.query(
    `SELECT count() AS parts, sum(rows) AS rows, formatReadableSize(sum(data_compressed_bytes)) AS on_disk
     FROM system.parts WHERE database = currentDatabase() AND table = '${TABLES.events}' AND active`,
  );

  console.log(`warehouse insert benchmark (${wh.kind}, ${dataDir})`);
  console.log(
    `cores: ${availableParallelism()} (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}`,
  );
  console.log(`rows: ${fmt(ROWS)} in batches of ${fmt(BATCH)}`);
  console.log(
    `insert: ${fmt(ROWS / (insertMs / 1000))} rows/s (time inside insert() ${seconds(insertMs)})`,
  );
  console.log(
    `end to end incl. building rows in JS: ${fmt(ROWS / (wallMs / 1000))} rows/s (${seconds(wallMs)})`,
  );
  console.log(
    `SELECT count() FROM events:        ${plain.rows[0]?.c} rows in ${plain.ms.toFixed(1)} ms`,
  );
  console.log(
    `SELECT count() FROM events FINAL:  ${final.rows[0]?.c} rows in ${final.ms.toFixed(1)} ms`,
  );
  console.log(
    `GROUP BY channel (count, uniqExact visitors): ${byChannel.rows.length} groups in ${byChannel.ms.toFixed(1)} ms`,
  );
  console.log(`active parts: ${parts?.parts}, rows ${parts?.rows}, compressed ${parts?.on_disk}`);
  console.log(`peak RSS: ${fmt(process.resourceUsage().maxRSS / 1024)} MB`);
  writeResults('warehouse-insert', {
    params: { kind: wh.kind, rows: ROWS, batch: BATCH },
    figures: [
      {
        what: 'insert through the Warehouse port',
        value: `${fmt(ROWS / (insertMs / 1000))} rows/s`,
      },
      {
        what: 'end to end, rows built in JS',
        value: `${fmt(ROWS / (wallMs / 1000))} rows/s (${seconds(wallMs)})`,
      },
      { what: '`SELECT count() FROM events`', value: `${plain.ms.toFixed(0)} ms` },
      { what: '`SELECT count() FROM events FINAL`', value: `${final.ms.toFixed(0)} ms` },
      {
        what: '`GROUP BY channel` (count, uniqExact visitors)',
        value: `${byChannel.ms.toFixed(0)} ms`,
      },
      {
        what: 'active parts after the inserts',
        value: `${parts?.parts} (${parts?.on_disk} compressed)`,
      },
      { what: 'peak RSS', value: `${fmt(process.resourceUsage().maxRSS / 1024)} MB` },
    ],
  });
} finally {
  await wh.close();
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
}
