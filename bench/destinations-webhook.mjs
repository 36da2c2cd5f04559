// Destination sync benchmark: issue 13's webhook figures, on 2 cores and
// embedded chDB. Prints figures; not a test.
//
//   npm run build && node bench/destinations-webhook.mjs
//
// "A full sync of a 1,000,000-person audience to a local webhook destination
// (batches of 10,000) in under 30 s; a diff of 10,000 changes in under 2 s."
// BENCH_PEOPLE people (default 1,000,000) get a churn_risk tag and a user id
// (SQL, straight into person_tags and identities); an audience of everyone
// tagged `high` (all of them) is run once through createAudienceService; a
// webhook destination (batchSize 10,000) on a local receiver in this process
// (it reads each body and answers 200) is synced in full, then 5,000 people
// leave (tag `low`) and 5,000 new ones join, the audience is run again and
// the destination synced again: the diff of 10,000 changes. The audience
// runs are not part of the sync figures (they are issue 12's).
//
// Env: BENCH_PEOPLE, BENCH_NOTE.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEmbeddedBus } from '@cdp/bus';
import { createAudienceService, createDestinationService, secretBox } from '@cdp/segment-exporter';
import { createClickHouseWarehouse } from '@cdp/warehouse';
import { quiet, writeResults } from './lib.mjs';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'cdp-bench-destinations-'));
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
console.log(`cpus ${cpus().length}, ${PEOPLE} people`);

let received = 0;
let bodies = 0;
let bytes = 0;
const server = createServer((req, res) => {
  let n = 0;
  req.on('data', (c) => (n += c.length));
  req.on('end', () => {
    bodies++;
    bytes += n;
    res.writeHead(200).end();
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/hook`;

const warehouse = await createClickHouseWarehouse({
  dataDir: join(dir, 'clickhouse'),
  database: 'cdp',
  logger: quiet,
});
const bus = await createEmbeddedBus({ dir: join(dir, 'bus'), logger: quiet });
try {
  await warehouse.migrate();
  const tags = (from, n, value) =>
    warehouse.command(`INSERT INTO person_tags (person_id, tag, value, computed_at, version)
      SELECT concat('p', toString(number)), 'churn_risk', '${value}', now64(3), toUnixTimestamp64Milli(now64(3))
      FROM numbers(${from}, ${n})`);
  const t0 = performance.now();
  await tags(0, PEOPLE, 'high');
  await warehouse.command(`INSERT INTO identities (id_type, id_value, one_id, first_seen, last_seen, version)
    SELECT 'user_id', concat('u', toString(number)), concat('p', toString(number)), now64(3), now64(3), 1
    FROM numbers(${PEOPLE + 5000})`);
  console.log(`generate: ${s(performance.now() - t0)}`);
  const audiences = createAudienceService({
    warehouse,
    bus,
    changesTopic: 'cdp.audiences.changes',
    logger: quiet,
  });
  const destinations = createDestinationService({
    warehouse,
    bus,
    secrets: secretBox(Buffer.alloc(32, 9)),
    logger: quiet,
    audienceExists: (n) => audiences.get(n),
  });
  const name = 'high_churn';
  await audiences.create({
    name,
    definition: { conditions: { tag: { name: 'churn_risk', op: 'eq', value: 'high' } } },
    refresh: 'manual',
  });
  const r1 = await audiences.refresh(name);
  console.log(`audience run 1: ${r1.size} members in ${s(r1.durationMs)}`);
  const d = await destinations.create({
    name: 'bench receiver',
    type: 'webhook',
    config: { url, secret: 'bench-secret-0123456789', batchSize: 10_000 },
  });
  const t1 = performance.now();
  const full = await destinations.sync(name, d.id);
  const fullMs = performance.now() - t1;
  received = bodies;
  const fullBytes = bytes;
  console.log(
    `full sync: ${s(fullMs)}: +${full.added} -${full.removed}, ${bodies} requests, ${(bytes / 1e6).toFixed(0)} MB`,
  );
  await tags(0, 5000, 'low');
  await tags(PEOPLE, 5000, 'high');
  const r2 = await audiences.refresh(name);
  console.log(`audience run 2: +${r2.entered} -${r2.exited} in ${s(r2.durationMs)}`);
  const before = bodies;
  const t2 = performance.now();
  const diff = await destinations.sync(name, d.id);
  const diffMs = performance.now() - t2;
  console.log(
    `diff sync: ${s(diffMs)}: +${diff.added} -${diff.removed}, ${bodies - before} requests`,
  );
  writeResults('destinations-webhook', {
    params: {
      people: PEOPLE,
      destination: 'webhook, batchSize 10,000, a receiver in this process that reads each body',
      diff: '5,000 leave and 5,000 join between the two syncs',
    },
    figures: [
      {
        what: `full sync of a ${PEOPLE.toLocaleString('en-US')}-person audience to a webhook`,
        value: s(fullMs),
        target: '30 s',
      },
      { what: 'diff sync of 10,000 changes', value: s(diffMs), target: '2 s' },
      {
        what: 'requests of the full sync / bytes',
        value: `${received} / ${(fullBytes / 1e6).toFixed(0)} MB`,
      },
    ],
  });
} finally {
  await bus.close();
  await warehouse.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
