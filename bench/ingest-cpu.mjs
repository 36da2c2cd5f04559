// Batch ingest on the all-in-one runner: what each event costs the
// platform's process in CPU, and how fast events become queryable (issue
// 16). Starts `packages/platform/dist/main.js` on a fresh data dir, sends
// POST /v1/batch of 100 distinct events (pre-built, so the load generator
// does little) from 20 connections for BENCH_SECONDS, and prints:
//   - accepted events/s, and the runner's CPU time per accepted event (user
//     + system from /proc: every thread, chDB's included) and cores busy;
//   - end to end until queryable: events sent / the time from the first
//     request until `SELECT count() FROM events` has them all.
// Prints figures; not a test. Linux only (/proc).
//
//   npm run build && node bench/ingest-cpu.mjs
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cannon, freePort, sleep, startRunner, waitHttp, writeResults } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 20;
const dataDir = mkdtempSync(join(tmpdir(), 'cdp-bench-ingest-cpu-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
console.log(
  `cpus ${cpus().length}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      ' ',
    )}, node ${process.version}; ${SECONDS} s of batches of 100 from ${CONNECTIONS} connections`,
);

/** CPU seconds (user + system, every thread) of a process, from /proc. */
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

// Enough distinct batches that none repeats (ingest drops a repeated messageId).
const BATCHES = Math.ceil((SECONDS * 60_000) / 100);
let n = 0;
const batch = () =>
  JSON.stringify({
    batch: Array.from({ length: 100 }, (_, i) => ({
      type: 'track',
      messageId: `bench-${n}-${i}`,
      anonymousId: `anon-${n++ % 100_000}`,
      event: 'Product Viewed',
      properties: { sku: `s${i}`, price: i, category: 'shoes' },
      context: {
        page: { path: '/p/1', url: 'https://shop.example/p/1' },
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120',
      },
    })),
  });
const bodies = Array.from({ length: BATCHES }, batch);

const server = startRunner(dataDir, port);
try {
  await waitHttp(`${url}/readyz`, 120_000);
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const count = async () => {
    const res = await fetch(`${url}/v1/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'SELECT count() AS n FROM events' }),
    });
    return Number((await res.json()).rows[0].n);
  };
  const pid = server.child.pid;
  let k = 0;
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  const r = await cannon({
    url: `${url}/v1/batch`,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${creds.writeKey}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[k++ % bodies.length] }) }],
  });
  const sentMs = Date.now() - t0;
  const cpu = cpuSeconds(pid) - cpu0;
  const accepted = (r.requests.total - r.non2xx) * 100;
  if (k > bodies.length) console.log(`note: ${k - bodies.length} batches were repeats`);
  let queryableMs;
  for (;;) {
    if ((await count()) >= accepted) {
      queryableMs = Date.now() - t0;
      break;
    }
    if (Date.now() - t0 > SECONDS * 1000 + 120_000)
      throw new Error('events not all queryable after 2 minutes');
    await sleep(100);
  }
  const perSec = Math.round((accepted / sentMs) * 1000);
  const e2e = Math.round((accepted / queryableMs) * 1000);
  const usPerEvent = ((cpu * 1e6) / accepted).toFixed(1);
  console.log(`accepted ${accepted} events: ${perSec} events/s (${r.non2xx} refused requests)`);
  console.log(
    `runner CPU ${cpu.toFixed(1)} s: ${usPerEvent} µs an event, ${(cpu / (sentMs / 1000)).toFixed(2)} cores busy while sending`,
  );
  console.log(
    `all queryable after ${(queryableMs / 1000).toFixed(1)} s: ${e2e} events/s end to end`,
  );
  writeResults('ingest-cpu', {
    params: { seconds: SECONDS, connections: CONNECTIONS, batch: 100 },
    figures: [
      { what: 'batches of 100 accepted', value: `${perSec.toLocaleString('en-US')} events/s` },
      { what: "the runner's CPU an accepted event (every thread)", value: `${usPerEvent} µs` },
      {
        what: 'end to end until queryable',
        value: `${e2e.toLocaleString('en-US')} events/s`,
        target: '100,000 events/s',
      },
    ],
    raw: { accepted, sentMs, queryableMs, cpuSeconds: cpu },
  });
} finally {
  server.child.kill('SIGTERM');
  await new Promise((res) => server.child.once('exit', res));
  rmSync(dataDir, { recursive: true, force: true });
}
