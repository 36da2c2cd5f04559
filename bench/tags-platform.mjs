// Tags in the all-in-one runner, as `npm start` runs it, over the data of
// bench/tags.mjs (10,000,000 events, 1,000,000 people): event-to-queryable
// latency of ingest while a full tag computation runs (the tag engine has
// its own chDB session), and how long a purchase takes to show in the
// person's tags on the default 60 s schedule. Prints figures and writes them
// to bench/results/tags-platform.json; not a test.
//
//   npm run build && BENCH_DATA_DIR=/tmp/bench-tags node bench/tags.mjs   # makes the data once
//   BENCH_DATA_DIR=/tmp/bench-tags node bench/tags-platform.mjs
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, percentile, sleep, startChild, waitHttp, writeResults } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('set BENCH_DATA_DIR to the data of bench/tags.mjs');
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, node ${process.version}; data ${dataDir}; CDP_TAGS_INTERVAL default (60 s)`,
);
const server = startChild(
  ['--max-semi-space-size=32', join(root, 'packages/platform/dist/main.js')],
  { CDP_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  'platform',
);
try {
  await waitHttp(`${url}/readyz`, 180_000);
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const admin = { authorization: `Bearer ${creds.adminToken}`, 'content-type': 'application/json' };
  const sources = await (await fetch(`${url}/v1/sources`, { headers: admin })).json();
  let writeKey = creds.writeKey;
  if (!writeKey || sources.sources.length === 0) {
    const r = await (
      await fetch(`${url}/v1/sources`, { method: 'POST', headers: admin, body: '{"name":"bench"}' })
    ).json();
    writeKey = r.writeKey;
  }
  const basic = {
    authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
    'content-type': 'application/json',
  };
  const sql = async (query, params) => {
    const r = await fetch(`${url}/v1/sql`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ query, params }),
    });
    return (await r.json()).rows;
  };

  // Probes: one event every 100 ms; one poller asks for every pending probe
  // in one query every 100 ms (polling each probe on its own would queue
  // behind the loader's inserts on the API's warehouse session).
  const probe = async (label, whileFn) => {
    const lat = [];
    let maxPoll = 0;
    const pending = new Map();
    let i = 0;
    let running = true;
    const done = whileFn().finally(() => (running = false));
    const poller = (async () => {
      while (running || pending.size > 0) {
        if (pending.size > 0) {
          const q0 = Date.now();
          // The probes' anonymous id is in the events sorting key: a cheap lookup.
          const rows = await sql(
            'SELECT DISTINCT message_id AS m FROM events WHERE anonymous_id = {a:String} AND message_id IN {ids:Array(String)}',
            { a: `probe-${label}`, ids: [...pending.keys()] },
          );
          const now = Date.now();
          maxPoll = Math.max(maxPoll, now - q0);
          for (const r of rows) {
            const sent = pending.get(r.m);
            if (sent !== undefined) {
              lat.push(now - sent);
              pending.delete(r.m);
            }
          }
        }
        await sleep(100);
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
    return { lat, result, maxPoll };
  };

  const idle = await probe('idle', () => sleep(10_000));
  console.log(
    `event -> queryable, no tag run:        p50 ${percentile(idle.lat, 50)} ms, p99 ${percentile(idle.lat, 99)} ms (${idle.lat.length} probes; slowest poll ${idle.maxPoll} ms)`,
  );
  const during = await probe('full', async () => {
    const t = Date.now();
    const r = await (
      await fetch(`${url}/v1/tags/recompute`, {
        method: 'POST',
        headers: admin,
        body: '{"full":true}',
      })
    ).json();
    return { ms: Date.now() - t, run: r.run };
  });
  console.log(
    `event -> queryable, during a full run: p50 ${percentile(during.lat, 50)} ms, p99 ${percentile(during.lat, 99)} ms (${during.lat.length} probes; slowest poll ${during.maxPoll} ms); the full run took ${(during.result.ms / 1000).toFixed(1)} s (steps ms: ${JSON.stringify(during.result.run?.steps)})`,
  );

  // A purchase, then the Person API until the tags show it (default schedule).
  const user = `bench-buyer-${Date.now()}`;
  const t0 = Date.now();
  await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: basic,
    body: JSON.stringify({
      batch: [
        { type: 'identify', userId: user, traits: { plan: 'bench' } },
        { type: 'track', userId: user, event: 'Order Completed', properties: { revenue: 99 } },
      ],
    }),
  });
  for (;;) {
    const l = await fetch(`${url}/v1/persons/lookup?type=user_id&value=${user}`, {
      headers: admin,
    });
    if (l.ok) {
      const { oneId } = await l.json();
      const p = await (
        await fetch(`${url}/v1/persons/${oneId}?events=1`, { headers: admin })
      ).json();
      if (p.tags?.frequency === 1) break;
    }
    if (Date.now() - t0 > 180_000) throw new Error('the purchase did not show in 180 s');
    await sleep(250);
  }
  const purchaseS = (Date.now() - t0) / 1000;
  console.log(
    `purchase -> in the person's tags (default 60 s schedule): ${purchaseS.toFixed(1)} s`,
  );
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const [events] = await sql('SELECT count() AS n FROM events');
  writeResults('tags-platform', {
    params: {
      events: Number(events.n),
      tagsInterval: 'default (60 s)',
      probes: 'one every 100 ms',
    },
    figures: [
      {
        what: "purchase to the person's tags, default 60 s schedule",
        value: `${purchaseS.toFixed(1)} s`,
        target: '70 s',
      },
      {
        what: 'event to queryable, no tag run',
        value: `p50 ${s(percentile(idle.lat, 50))}, p99 ${s(percentile(idle.lat, 99))}`,
        target: 'p99 2 s',
      },
      {
        what: 'event to queryable while a full tag run goes on',
        value: `p50 ${s(percentile(during.lat, 50))}, p99 ${s(percentile(during.lat, 99))} (slowest SQL poll ${s(during.maxPoll)})`,
        target: 'p99 2 s',
      },
      { what: 'that full tag run', value: s(during.result.ms) },
    ],
  });
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
}
