// The loader's insert path against chDB's own ceiling, in one run (issue 16:
// "the loss between the engine and the port is the first place to look").
// Embedded chDB, one process, no HTTP and no bus: prints rows/s and the CPU
// time per row (process CPU, which counts chDB's threads too) of
//   1. chDB's ceiling for the events table shape: JSONEachRow rows straight
//      into a copy of `events` (no views), through chDB's raw passthrough
//      insert (the payload handed to the engine's parser as bytes);
//   2. the loader's path: bus messages as lines through the Warehouse port's
//      `insertLines` into `events_ingest`, whose views parse them into
//      `events` (and `events` feeds the metrics views), with dedup tokens;
//   3. the same lines through chDB's raw passthrough (TSV, backslashes
//      doubled), to see what the port's `exec` path costs;
//   4. the loader's path without the metrics views on `events`.
// and the ratio of 2 to 1. Prints figures; not a test.
//
//   npm run build && node bench/insert-ceiling.mjs
//
// Env: BENCH_ROWS (default 200000), BENCH_BATCH (default 20000: the loader's
// CDP_LOADER_MAX_ROWS is of that order under load).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouseWarehouse } from '../packages/warehouse/dist/index.js';
import { quiet, writeResults } from './lib.mjs';

const N = Number(process.env.BENCH_ROWS ?? 200_000);
const B = Number(process.env.BENCH_BATCH ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'cdp-bench-insert-'));
console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, node ${process.version}; ${N} rows in batches of ${B}`,
);

/** A bus message of `cdp.events.resolved` as the loader receives it (about 900 bytes). */
const message = (i, prefix) =>
  JSON.stringify({
    schemaVersion: 1,
    messageId: `${prefix}-${i}`,
    sourceId: 'src_1',
    receivedAt: Date.now(),
    type: 'track',
    oneId: `p${i % 50_000}`,
    enriched: {
      timestamp: Date.now() - i * 1000,
      channel: 'Paid Search',
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'spring',
      page_url: 'https://shop.example/p/1',
      page_path: '/p/1',
      referrer: 'https://google.com/',
      ip: '203.0.113.7',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36',
      is_bot: false,
    },
    event: {
      type: 'track',
      event: 'Product Viewed',
      anonymousId: `a-${i}`,
      userId: i % 3 === 0 ? `u-${i}` : '',
      properties: { sku: `s${i}`, price: i % 300, category: 'shoes', name: 'A "quoted" \\ name' },
      context: { page: { path: '/p/1' }, library: { name: 'cdp-browser', version: '1.0.0' } },
    },
  });
const linesOf = (prefix) => Array.from({ length: N }, (_, i) => Buffer.from(message(i, prefix)));
const NL = Buffer.from('\n');
const joined = (lines, from, map = (l) => l) => {
  const parts = [];
  for (const l of lines.slice(from, from + B)) parts.push(map(l), NL);
  return Buffer.concat(parts);
};

/** Runs `fn`, answers rows/s and CPU µs per row (user + system of the whole process). */
async function timed(label, fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const out = {
    rowsPerSec: Math.round((N / ms) * 1000),
    cpuUsPerRow: Number(((cpu.user + cpu.system) / N).toFixed(1)),
    cores: Number(((cpu.user + cpu.system) / 1000 / ms).toFixed(2)),
  };
  console.log(
    `${label.padEnd(58)} ${String(out.rowsPerSec).padStart(7)} rows/s, ${out.cpuUsPerRow} µs CPU/row (${out.cores} cores busy)`,
  );
  return out;
}

const wh = await createClickHouseWarehouse({
  dataDir: join(dir, 'ch'),
  database: 'cdp',
  logger: quiet,
});
const { Session } = await import('chdb');
let session;
try {
  await wh.migrate();
  // The same engine (sessions on one path share it): for the raw passthrough insert.
  session = new Session(join(dir, 'ch'));
  const settings = (token) => ({
    insert_deduplicate: 1,
    insert_deduplication_token: token,
    deduplicate_blocks_in_dependent_materialized_views: 1,
    async_insert: 0,
  });

  const seedLines = linesOf('seed');
  for (let i = 0; i < N; i += B) await wh.insertLines('events_ingest', seedLines.slice(i, i + B));
  await wh.command('CREATE TABLE events_copy AS events');
  const rows = (
    await session.queryAsync(
      `SELECT * EXCEPT loaded_at FROM cdp.events LIMIT 1 BY message_id LIMIT ${N} FORMAT JSONEachRow`,
    )
  )
    .text()
    .split('\n')
    .filter(Boolean)
    .map((l) => Buffer.from(l));

  const ceiling = await timed('1. ceiling: events rows, JSONEachRow, no views', async () => {
    for (let i = 0; i < N; i += B)
      await session.insert({
        table: 'cdp.events_copy',
        values: joined(rows, i),
        format: 'JSONEachRow',
        settings: settings(`c-${i}`),
      });
  });
  const portLines = linesOf('port');
  const port = await timed("2. loader's path: port insertLines, views, tokens", async () => {
    for (let i = 0; i < N; i += B)
      await wh.insertLines('events_ingest', portLines.slice(i, i + B), { dedupToken: `p-${i}` });
  });
  const rawLines = linesOf('raw');
  const escape = (b) => (b.includes(92) ? Buffer.from(b.toString().replace(/\\/g, '\\\\')) : b);
  const raw = await timed('3. the same lines through the raw passthrough (TSV)', async () => {
    for (let i = 0; i < N; i += B)
      await session.insert({
        table: 'cdp.events_ingest',
        values: joined(rawLines, i, escape),
        format: 'TSV',
        settings: settings(`r-${i}`),
      });
  });
  await wh.command('DROP TABLE metrics_minute_mv');
  await wh.command('DROP TABLE metrics_receipt_minute_mv');
  const bareLines = linesOf('bare');
  const noMetrics = await timed("4. loader's path without the metrics views", async () => {
    for (let i = 0; i < N; i += B)
      await wh.insertLines('events_ingest', bareLines.slice(i, i + B), { dedupToken: `b-${i}` });
  });
  const [check] = await wh.query(
    "SELECT uniqExact(message_id) AS n, countIf(JSONExtractString(properties, 'name') = 'A \"quoted\" \\\\ name') AS same FROM events",
  );
  console.log(`events: ${check.n} distinct (want ${4 * N}), properties intact: ${check.same}`);
  const ratio = port.rowsPerSec / ceiling.rowsPerSec;
  console.log(`ratio of the loader's path to the ceiling: ${ratio.toFixed(2)}x`);
  const f = (r) => `${r.rowsPerSec.toLocaleString('en-US')} rows/s, ${r.cpuUsPerRow} µs CPU a row`;
  writeResults('insert-ceiling', {
    params: { rows: N, batch: B, messageBytes: portLines[0].length },
    figures: [
      { what: "chDB's ceiling for the events shape (JSONEachRow, no views)", value: f(ceiling) },
      {
        what: "the loader's path (port insertLines, views, dedup tokens)",
        value: f(port),
        target: '0.8x the ceiling',
      },
      { what: 'ratio', value: `${ratio.toFixed(2)}x`, target: '0.8x' },
      { what: 'the same lines through the raw passthrough (TSV)', value: f(raw) },
      { what: "the loader's path without the metrics views", value: f(noMetrics) },
    ],
    raw: { ceiling, port, raw, noMetrics },
  });
} finally {
  session?.close?.();
  await wh.close();
  rmSync(dir, { recursive: true, force: true });
}
