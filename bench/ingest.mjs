// Ingest benchmark (embedded by default; --kafka for a real broker):
//   npm run bench:ingest            or   node bench/ingest.mjs [--duration 10] [--connections 50] [--kafka]
// Prints: single-event POST /v1/track req/s and p99 next to a bare fastify
// server that parses and validates the same body (and the ratio), batched
// POST /v1/batch of 100 events in events/s (next to the bare server on the
// same batches), event-to-queryable latency, and
// the server's peak RSS. The load generator (autocannon) runs on the same
// machine, in this process. Figures also go to
// bench/results/ingest-<embedded|kafka>[-no-identity][-new-people].json.
import { availableParallelism, cpus } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cannon,
  freePort,
  percentile,
  rssSampler,
  sleep,
  startChild,
  waitHttp,
  writeResults,
} from './lib.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    kafka: { type: 'boolean', default: false },
    // Without OneID in the path (CDP_IDENTITY_ENABLED=false), to measure what it costs.
    'no-identity': { type: 'boolean', default: false },
    // Batch events from new people every time (each a new anonymous id, one in
    // ten with a user id and an email): every event is a new link for OneID.
    'new-people': { type: 'boolean', default: false },
    probes: { type: 'string', default: '200' },
    // Background load while probing latency: batch requests/s of 100 events.
    'background-rps': { type: 'string', default: '50' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const root = new URL('..', import.meta.url).pathname;
const results = {
  cores: availableParallelism(),
  cpu: cpus()[0]?.model,
  mode: values.kafka ? 'kafka+chdb' : 'embedded bus+chdb',
  identity: !values['no-identity'],
  newPeople: values['new-people'],
  duration,
  connections,
};

let kafka;
if (values.kafka) {
  const { startKafka } = await import('../packages/testkit/dist/index.js');
  kafka = await startKafka();
  results.brokers = kafka.brokers.join(',');
}

const dataDir = mkdtempSync(join(tmpdir(), 'cdp-bench-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
// The same flags as `npm start`.
const server = startChild(
  ['--max-semi-space-size=32', join(root, 'packages/platform/dist/main.js')],
  {
    CDP_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // One load generator on one address: the per-IP and per-key limits
    // (6,000 and 60,000 requests a minute by default) would answer 429.
    CDP_RATE_LIMIT_PER_IP: '0',
    CDP_RATE_LIMIT_PER_KEY: '0',
    CDP_IDENTITY_ENABLED: values['no-identity'] ? 'false' : 'true',
    ...(kafka
      ? {
          KAFKA_BROKERS: kafka.brokers.join(','),
          CDP_TOPIC_PREFIX: `bench${Date.now().toString(36)}.`,
        }
      : {}),
  },
  'cdp',
);
const bareBasePort = await freePort();
const bare = startChild(
  [join(root, 'bench/bare-fastify.mjs')],
  { PORT: String(bareBasePort) },
  'bare',
);
try {
  await waitHttp(`${url}/healthz`);
  await waitHttp(`${url}/readyz`);
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const auth = `Basic ${Buffer.from(`${creds.writeKey}:`).toString('base64')}`;
  const rss = rssSampler(server.child.pid);

  const trackBody = JSON.stringify({
    anonymousId: '5d8a2c3e-7f41-4b1a-9c3e-2b7d1f0a9e11',
    event: 'Product Viewed',
    properties: {
      product_id: 'sku-1042',
      name: 'Trail running shoe',
      price: 129.9,
      currency: 'EUR',
      category: 'Shoes',
    },
    context: {
      page: {
        url: 'https://shop.example/p/1042?utm_source=google&utm_medium=cpc',
        path: '/p/1042',
        referrer: 'https://www.google.com/',
      },
      userAgent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      library: { name: 'analytics.js', version: '2.11.1' },
    },
    timestamp: new Date().toISOString(),
  });
  const headers = { 'content-type': 'application/json', authorization: auth };

  const batchBody = JSON.stringify({
    batch: Array.from({ length: 100 }, (_, i) => ({
      type: 'track',
      event: 'Product Viewed',
      anonymousId: `anon-${i % 17}`,
      properties: { product_id: `sku-${i}`, price: 10 + i },
    })),
    context: { library: { name: 'analytics-node', version: '3.1.0' } },
  });
  // Warm up both servers (JIT, first chDB inserts).
  await cannon({
    url: `http://127.0.0.1:${bareBasePort}/v1/track`,
    method: 'POST',
    body: trackBody,
    headers,
    connections,
    duration: 2,
  });
  await cannon({
    url: `${url}/v1/track`,
    method: 'POST',
    body: trackBody,
    headers,
    connections,
    duration: 3,
  });

  const bareRes = await cannon({
    url: `http://127.0.0.1:${bareBasePort}/v1/track`,
    method: 'POST',
    body: trackBody,
    headers,
    connections,
    duration,
  });
  // The same batches to the bare server: the ceiling for parse + validate alone.
  const bareBatch = await cannon({
    url: `http://127.0.0.1:${bareBasePort}/v1/batch`,
    method: 'POST',
    body: batchBody,
    headers,
    connections: Math.min(connections, 20),
    duration,
  });
  bare.child.kill('SIGTERM');
  await sleep(500);
  const single = await cannon({
    url: `${url}/v1/track`,
    method: 'POST',
    body: trackBody,
    headers,
    connections,
    duration,
  });
  results.single = {
    reqPerSec: Math.round(single.requests.average),
    p99Ms: single.latency.p99,
    non2xx: single.non2xx,
    errors: single.errors,
    bareReqPerSec: Math.round(bareRes.requests.average),
    bareP99Ms: bareRes.latency.p99,
    ratio: Number((single.requests.average / bareRes.requests.average).toFixed(3)),
  };
  process.stdout.write(
    `single POST /v1/track: ${results.single.reqPerSec} req/s, p99 ${results.single.p99Ms} ms (bare fastify parse+validate: ${results.single.bareReqPerSec} req/s, p99 ${results.single.bareP99Ms} ms; ratio ${results.single.ratio})\n`,
  );

  let seq = 0;
  const newPeopleBody = () =>
    JSON.stringify({
      batch: Array.from({ length: 100 }, (_, i) => {
        const n = seq++;
        return {
          type: n % 10 === 0 ? 'identify' : 'track',
          event: 'Product Viewed',
          anonymousId: `new-${process.pid}-${n}`,
          ...(n % 10 === 0 ? { userId: `user-${n}`, traits: { email: `p${n}@example.com` } } : {}),
          properties: { product_id: `sku-${i}`, price: 10 + i },
        };
      }),
      context: { library: { name: 'analytics-node', version: '3.1.0' } },
    });
  const batch = await cannon({
    url: `${url}/v1/batch`,
    method: 'POST',
    ...(values['new-people']
      ? { requests: [{ setupRequest: (req) => ({ ...req, body: newPeopleBody() }) }] }
      : { body: batchBody }),
    headers,
    connections: Math.min(connections, 20),
    duration,
  });
  results.batch = {
    reqPerSec: Math.round(batch.requests.average),
    eventsPerSec: Math.round(batch.requests.average * 100),
    p99Ms: batch.latency.p99,
    non2xx: batch.non2xx,
    errors: batch.errors,
    bareEventsPerSec: Math.round(bareBatch.requests.average * 100),
  };
  process.stdout.write(
    `batched POST /v1/batch x100: ${results.batch.eventsPerSec} events/s (${results.batch.reqPerSec} req/s, p99 ${results.batch.p99Ms} ms; bare fastify parse+validate: ${results.batch.bareEventsPerSec} events/s)\n`,
  );

  // Event to queryable: probes sent one by one under a background load, each
  // polled until SELECT sees it.
  const sql = async (query, params) => {
    const r = await fetch(`${url}/v1/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, params }),
    });
    return (await r.json()).rows;
  };
  const probes = Number(values.probes);
  const run = Date.now().toString(36);
  const background = cannon({
    url: `${url}/v1/batch`,
    method: 'POST',
    body: batchBody,
    headers,
    connections: 4,
    duration: Math.ceil((probes * 30) / 1000) + 5,
    overallRate: Number(values['background-rps']),
  });
  const sent = new Map();
  const seen = new Map();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const rows = await sql('SELECT message_id FROM events WHERE message_id LIKE {p:String}', {
        p: `probe-${run}-%`,
      });
      const t = Date.now();
      for (const r of rows) if (!seen.has(r.message_id)) seen.set(r.message_id, t);
      await sleep(20);
    }
  })();
  for (let i = 0; i < probes; i++) {
    const id = `probe-${run}-${i}`;
    sent.set(id, Date.now());
    const r = await fetch(`${url}/v1/track`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ anonymousId: 'probe', event: 'Probe', messageId: id }),
    });
    if (r.status !== 200) throw new Error(`probe ${r.status}`);
    await sleep(25);
  }
  const deadline = Date.now() + 30_000;
  while (seen.size < probes && Date.now() < deadline) await sleep(50);
  polling = false;
  await poller;
  await background;
  const lat = [...sent].filter(([id]) => seen.has(id)).map(([id, t]) => seen.get(id) - t);
  results.queryable = {
    probes,
    seen: seen.size,
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    maxMs: Math.max(...lat),
  };
  process.stdout.write(
    `event to queryable: p50 ${results.queryable.p50Ms} ms, p99 ${results.queryable.p99Ms} ms, max ${results.queryable.maxMs} ms (${seen.size}/${probes} probes, under a ${Number(values['background-rps']) * 100} events/s background load)\n`,
  );

  const total = await sql('SELECT count() AS n FROM events');
  results.rowsStored = Number(total[0]?.n ?? 0);
  results.peakRssMiB = Math.round(rss.stop());
  process.stdout.write(
    `server peak RSS: ${results.peakRssMiB} MiB; rows stored: ${results.rowsStored}; cores: ${results.cores} (${results.cpu})\n`,
  );
  const n = (x) => Math.round(x).toLocaleString('en-US');
  const variant = `${values.kafka ? 'kafka' : 'embedded'}${values['no-identity'] ? '-no-identity' : ''}${values['new-people'] ? '-new-people' : ''}`;
  writeResults(`ingest-${variant}`, {
    params: {
      mode: results.mode,
      identity: results.identity,
      newPeople: results.newPeople,
      duration,
      connections,
      batchConnections: Math.min(connections, 20),
      probes,
      backgroundEventsPerSec: Number(values['background-rps']) * 100,
    },
    figures: [
      {
        what: 'single `POST /v1/track`',
        value: `${n(results.single.reqPerSec)} req/s, p99 ${results.single.p99Ms} ms`,
        target: '10,000 req/s',
      },
      {
        what: 'bare fastify that only parses and validates the same body',
        value: `${n(results.single.bareReqPerSec)} req/s, p99 ${results.single.bareP99Ms} ms`,
      },
      {
        what: `\`POST /v1/batch\` of 100${values['new-people'] ? ', every event a new person' : ''}`,
        value: `${n(results.batch.eventsPerSec)} events/s (bare fastify: ${n(results.batch.bareEventsPerSec)})`,
        target: '100,000 events/s',
      },
      {
        what: `event to queryable, under ${n(Number(values['background-rps']) * 100)} events/s`,
        value: `p50 ${(results.queryable.p50Ms / 1000).toFixed(2)} s, p99 ${(results.queryable.p99Ms / 1000).toFixed(2)} s (${results.queryable.seen}/${probes} probes)`,
      },
      { what: 'server peak RSS', value: `${n(results.peakRssMiB)} MiB` },
    ],
    raw: results,
  });
  process.stdout.write(`${JSON.stringify(results)}\n`);
} finally {
  server.child.kill('SIGTERM');
  bare.child.kill('SIGTERM');
  await sleep(1500);
  if (server.child.exitCode === null) server.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  if (kafka) await kafka.stop();
}
