// The all-in-one runner, as `npm start` runs it (embedded bus and chDB,
// UV_THREADPOOL_SIZE=16), while one long ad-hoc query runs through
// `POST /v1/sql`: event-to-queryable latency of ingest (probes polled through
// the SQL API, as bench/tags-platform.mjs does) and `/readyz` latency, idle
// and during the query, with the query's own duration. Prints figures; not a
// test.
//
//   npm run build && node bench/heavy-query.mjs [--seconds 20] [--kind cpu|sleep|both]
//
// `cpu`: a hash over numbers that never ends by itself, stopped by the time
// limit (CDP_SQL_MAX_EXECUTION_TIME = --seconds): it takes every core it is
// given. `sleep`: nested 3 s sleeps, as long, using no CPU.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, percentile, sleep, startChild, waitHttp, writeResults } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    kind: { type: 'string', default: 'both' },
  },
});
const seconds = Number(args.seconds);
const kinds = args.kind === 'both' ? ['cpu', 'sleep'] : [args.kind];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = mkdtempSync(join(tmpdir(), 'cdp-bench-heavy-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, node ${process.version}; a ${seconds} s query: ${kinds.join(', ')}`,
);

const server = startChild(
  ['--max-semi-space-size=32', join(root, 'packages/platform/dist/main.js')],
  {
    CDP_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    CDP_SQL_MAX_EXECUTION_TIME: String(seconds),
    UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16',
  },
  'platform',
);

/** Nested sleeps run one after another: `n` x 3 s on any number of cores. */
function sleepsSql(n) {
  let sql = 'SELECT sleep(3) AS s0';
  for (let i = 1; i < n; i++) sql = `SELECT sleep(3) + s${i - 1} AS s${i} FROM (${sql})`;
  return sql;
}

const LONG = {
  cpu: 'SELECT sum(cityHash64(number)) AS h FROM numbers(1000000000000)',
  sleep: sleepsSql(Math.ceil(seconds / 3)),
};

try {
  await waitHttp(`${url}/readyz`, 180_000);
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const admin = { authorization: `Bearer ${creds.adminToken}`, 'content-type': 'application/json' };
  const basic = {
    authorization: `Basic ${Buffer.from(`${creds.writeKey}:`).toString('base64')}`,
    'content-type': 'application/json',
  };
  const sql = async (query, params) => {
    const r = await fetch(`${url}/v1/sql`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ query, params }),
    });
    return { status: r.status, body: await r.json() };
  };

  // Probes: one event every 100 ms; one poller asks for every pending probe
  // in one query every 100 ms; /readyz every 250 ms.
  const probe = async (label, whileFn) => {
    const lat = [];
    const ready = [];
    let maxPoll = 0;
    const pending = new Map();
    let i = 0;
    let running = true;
    const done = whileFn().finally(() => (running = false));
    const poller = (async () => {
      while (running || pending.size > 0) {
        if (pending.size > 0) {
          const q0 = Date.now();
          const r = await sql(
            'SELECT DISTINCT message_id AS m FROM events WHERE anonymous_id = {a:String} AND message_id IN {ids:Array(String)}',
            { a: `probe-${label}`, ids: [...pending.keys()] },
          );
          const now = Date.now();
          maxPoll = Math.max(maxPoll, now - q0);
          for (const row of r.body.rows ?? []) {
            const sent = pending.get(row.m);
            if (sent !== undefined) {
              lat.push(now - sent);
              pending.delete(row.m);
            }
          }
        }
        await sleep(100);
      }
    })();
    const readiness = (async () => {
      while (running) {
        const t = Date.now();
        const r = await fetch(`${url}/readyz`);
        await r.arrayBuffer();
        ready.push(r.status === 200 ? Date.now() - t : Number.POSITIVE_INFINITY);
        await sleep(250);
      }
    })();
    while (running) {
      const id = `probe-${label}-${Date.now()}-${i++}`;
      const sent = Date.now();
      const ack = await fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: basic,
        body: JSON.stringify({ messageId: id, anonymousId: `probe-${label}`, event: 'Probe' }),
      });
      if (!ack.ok) throw new Error(`probe ${ack.status}`);
      pending.set(id, sent);
      await sleep(100);
    }
    const result = await done;
    await poller;
    await readiness;
    return { lat, ready, result, maxPoll };
  };
  const line = (label, r) =>
    `${label}: event -> queryable p50 ${percentile(r.lat, 50)} ms, p99 ${percentile(r.lat, 99)} ms (${r.lat.length} probes; slowest poll ${r.maxPoll} ms); /readyz p99 ${percentile(r.ready, 99)} ms, max ${Math.max(...r.ready)} ms`;

  const figure = (what, r) => ({
    what,
    value: `event to queryable p50 ${percentile(r.lat, 50)} ms, p99 ${percentile(r.lat, 99)} ms; /readyz p99 ${percentile(r.ready, 99)} ms, max ${Math.max(...r.ready)} ms`,
  });
  const idle = await probe('idle', () => sleep(10_000));
  console.log(line('no query          ', idle));
  const figures = [figure('no query', idle)];
  for (const kind of kinds) {
    const during = await probe(kind, async () => {
      const t = Date.now();
      const r = await sql(LONG[kind], {});
      return { ms: Date.now() - t, status: r.status, code: r.body.code ?? 'ok' };
    });
    console.log(
      `${line(`during a ${kind} query`.padEnd(18), during)}; the query took ${(during.result.ms / 1000).toFixed(1)} s (${during.result.status} ${during.result.code})`,
    );
    figures.push(figure(`during a ${kind} query`, during), {
      what: `the ${kind} query itself`,
      value: `${(during.result.ms / 1000).toFixed(1)} s (${during.result.status} ${during.result.code})`,
    });
  }
  writeResults('heavy-query', { params: { seconds, kinds }, figures });
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
