/**
 * OneID on the distributed topology: every service is a process of its own,
 * started from its composition root (`services/<name>/dist/main.js`, built
 * by `npm test`) with the environment docker-compose.yml gives it, on a real
 * Kafka broker and one real ClickHouse engine (the test kit's HTTP front over
 * chDB, another process: chDB binds a data directory to one process). Two
 * identity processes: their stampers share `cdp.events.raw`, one resolver is
 * active and the other stands by, and each stamper caches `identities` and
 * learns of splits and erasures only from `cdp.identity.changes`.
 *
 * Everything is checked over HTTP (collection on ingest, SQL and the Person
 * API on the api process, /metrics of the services); the replay check runs a
 * resolver of its own over the topic and the warehouse, as a replay tool
 * would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openBus } from '@cdp/bus';
import { createLogger } from '@cdp/core';
import { verifyWebhook } from '@cdp/destinations';
import {
  freePort,
  kafkaBrokersForTest,
  spawnClickHouseFront,
  tempDir,
  waitFor,
  type SpawnedClickHouseFront,
  type TempDir,
} from '@cdp/testkit';
import { createClickHouseWarehouse } from '@cdp/warehouse';
import { adminApi, sendBatch, sql } from './e2e-scenarios.js';
import {
  runIdentityScenarios,
  type IdentityCtx,
  type IdentityHarness,
} from './identity-scenarios.js';

const brokers = kafkaBrokersForTest();
const mainOf = (service: string): string =>
  fileURLToPath(new URL(`../../../services/${service}/dist/main.js`, import.meta.url));

/** One service process and the URL of its HTTP server (collection, API or ops). */
interface ServiceProcess {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Starts another process of it: the same port and environment. */
  readonly again: () => Promise<ServiceProcess>;
}

/** Every child this file started, killed when it ends however it ends. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // A stopped process (SIGSTOP) handles SIGTERM only once continued.
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/**
 * Starts `services/<service>/dist/main.js` with exactly `env` (the config
 * loaders refuse unknown CDP_ keys, so nothing of this process's environment
 * goes along but PATH) and waits for its /readyz.
 */
async function startService(
  name: string,
  service: string,
  port: number,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [mainOf(service)], {
    env: { PATH: process.env['PATH'] ?? '', KAFKA_CLIENT_ID: `cdp-${name}`, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited (${child.signalCode ?? child.exitCode})`);
      }
      return (await fetch(`${url}/readyz`)).status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: `${name} to be ready` },
  );
  return { name, url, child, again: () => startService(name, service, port, env) };
}

/** The sum of a counter's series in a service's /metrics. */
async function counter(s: ServiceProcess, metric: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

interface Topology extends IdentityHarness {
  readonly identity: readonly ServiceProcess[];
  readonly loader: ServiceProcess;
  /** `kill -9` of one process, then a new one in its place; resolves when that one is ready. */
  crashAndRestart(s: ServiceProcess): Promise<ServiceProcess>;
}

async function startTopology(prefix: string): Promise<Topology> {
  const started: ServiceProcess[] = [];
  let front: SpawnedClickHouseFront | undefined;
  let dir: TempDir | undefined;
  const closers: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(started.map((s) => stopChild(s.child)));
    for (const close of closers.reverse()) await close();
    await front?.stop();
    await dir?.remove();
  };
  try {
    front = await spawnClickHouseFront();
    dir = await tempDir('cdp-distributed');
    const common = {
      KAFKA_BROKERS: (brokers ?? []).join(','),
      CLICKHOUSE_URL: front.url,
      CDP_TOPIC_PREFIX: prefix,
      CDP_TOPIC_PARTITIONS: '4',
      // kafkajs warns of every topic that exists already and every rebalance.
      LOG_LEVEL: 'error',
    };
    // Ingest applies the migrations and writes credentials.json, which the
    // API reads from the same data directory (a shared volume in compose).
    const shared = dir.join('shared');
    const ingestPort = await freePort();
    started.push(
      await startService('ingest', 'ingest', ingestPort, {
        ...common,
        CDP_DATA_DIR: shared,
        PORT: String(ingestPort),
        HOST: '127.0.0.1',
      }),
    );
    const [id1, id2, loaderPort, apiPort, exporterPort, metricsPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const rest = await Promise.all([
      startService('identity-1', 'identity', id1, {
        ...common,
        CDP_DATA_DIR: dir.join('identity-1'),
        CDP_IDENTITY_PORT: String(id1),
      }),
      startService('identity-2', 'identity', id2, {
        ...common,
        CDP_DATA_DIR: dir.join('identity-2'),
        CDP_IDENTITY_PORT: String(id2),
      }),
      startService('loader', 'loader', loaderPort, {
        ...common,
        CDP_DATA_DIR: dir.join('loader'),
        CDP_LOADER_PORT: String(loaderPort),
        CDP_LOADER_FLUSH_MS: '250',
      }),
      startService('api', 'api', apiPort, {
        ...common,
        CDP_DATA_DIR: shared,
        CDP_API_PORT: String(apiPort),
        CDP_API_HOST: '127.0.0.1',
        CDP_EXPORTER_URL: `http://127.0.0.1:${exporterPort}`,
      }),
      startService('segment-exporter', 'segment-exporter', exporterPort, {
        ...common,
        CDP_DATA_DIR: shared,
        CDP_EXPORTER_PORT: String(exporterPort),
        CDP_INGEST_URL: `http://127.0.0.1:${ingestPort}`,
      }),
      startService('metrics', 'metrics', metricsPort, {
        ...common,
        CDP_DATA_DIR: shared,
        CDP_METRICS_PORT: String(metricsPort),
        CDP_ALERTS_INTERVAL_MS: '500',
      }),
    ]);
    started.push(...rest);
    const [identity1, identity2, loader, apiProcess] = rest;
    const creds = JSON.parse(await readFile(`${shared}/credentials.json`, 'utf8')) as {
      writeKey: string;
      adminToken: string;
    };
    // The replay check's own clients of the broker and the warehouse.
    const logger = createLogger({ service: 'distributed-test', level: 'warn' });
    const bus = await openBus(
      {
        KAFKA_BROKERS: common.KAFKA_BROKERS,
        KAFKA_CLIENT_ID: 'cdp-distributed-test',
        CDP_DATA_DIR: dir.join('unused'),
        CDP_TOPIC_PARTITIONS: 4,
      },
      logger,
    );
    closers.push(() => bus.close());
    const warehouse = await createClickHouseWarehouse({ url: front.url, database: 'cdp' });
    closers.push(() => warehouse.close());
    const identity = [identity1, identity2];
    const crashAndRestart = async (s: ServiceProcess): Promise<ServiceProcess> => {
      const exited = new Promise((resolve) => s.child.once('exit', resolve));
      s.child.kill('SIGKILL');
      await exited;
      children.delete(s.child);
      const next = await s.again();
      started.splice(started.indexOf(s), 1, next);
      identity.splice(identity.indexOf(s), 1, next);
      return next;
    };
    return {
      endpoints: {
        url: started[0]?.url ?? '',
        apiUrl: apiProcess.url,
        writeKey: creds.writeKey,
        admin: creds.adminToken,
      },
      bus,
      warehouse,
      identity,
      loader,
      crashAndRestart,
      cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

// Skipped only outside CI: in CI, kafkaBrokersForTest throws when no broker can be had.
describe.skipIf(!brokers)('on the distributed topology (a process per service)', () => {
  const prefix = `dist${randomUUID().slice(0, 8)}.`;
  let topology: Topology | undefined;
  const topo = (): Topology => {
    if (!topology) throw new Error('the topology did not start');
    return topology;
  };

  runIdentityScenarios(
    'Kafka, ClickHouse over HTTP, ingest + 2 identity + loader + api processes',
    async () => (topology = await startTopology(prefix)),
    prefix,
    (c: IdentityCtx) => {
      const track = (messageId: string, anonymousId: string): Record<string, unknown> => ({
        type: 'track',
        event: 'E',
        messageId,
        anonymousId,
      });
      const post = (batch: Record<string, unknown>[]): Promise<void> => sendBatch(c, batch);
      const stamped = async (): Promise<number[]> =>
        Promise.all(topo().identity.map((s) => counter(s, 'cdp_identity_stamped_total')));

      it('an audience defined through the API is run by the exporter process, and its members enter through ingest', async () => {
        const run = randomUUID().slice(0, 8);
        await post([
          { type: 'track', event: 'Order Completed', userId: `aud-${run}`, properties: { run } },
        ]);
        await waitFor(
          async () =>
            expect(
              await sql(c, `SELECT 1 FROM events WHERE user_id = {u:String}`, { u: `aud-${run}` }),
            ).toHaveLength(1),
          { timeoutMs: 30_000 },
        );
        const name = `buyers-${run}`;
        const created = await adminApi(c, 'POST', '/v1/audiences', {
          name,
          refresh: 'manual',
          definition: {
            conditions: {
              performed: {
                event: 'Order Completed',
                where: [{ property: 'run', op: 'eq', value: run }],
              },
            },
          },
        });
        expect(created.status, created.text).toBe(201);
        const refreshed = await adminApi<{
          run: { version: number; size: number; entered: number };
        }>(c, 'POST', `/v1/audiences/${name}/refresh`);
        expect(refreshed.status, refreshed.text).toBe(200);
        expect(refreshed.json.run).toMatchObject({ version: 1, size: 1, entered: 1 });
        const members = await adminApi<{ members: { personId: string }[] }>(
          c,
          'GET',
          `/v1/audiences/${name}/members`,
        );
        expect(members.json.members).toHaveLength(1);
        await waitFor(
          async () =>
            expect(
              await sql(
                c,
                `SELECT person_id FROM events_by_person WHERE event = 'Audience Entered'
                 AND JSONExtractString(properties, 'audience') = {a:String}`,
                { a: name },
              ),
            ).toEqual([{ person_id: members.json.members[0]?.personId }]),
          { timeoutMs: 30_000 },
        );
      });

      it('an alert defined through the API is evaluated by the metrics process and notified once, signed', async () => {
        const got: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
        const receiver = createServer((req, res) => {
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => {
            got.push({ body, headers: req.headers });
            res.end('ok');
          });
        });
        await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
        try {
          const port = (receiver.address() as AddressInfo).port;
          // Always firing: fewer than a million people in the last minute.
          const created = await adminApi<{ alert: { id: string } }>(c, 'POST', '/v1/alerts', {
            name: `floor-${randomUUID().slice(0, 8)}`,
            metric: 'uv',
            windowMinutes: 1,
            compare: 'threshold',
            threshold: 1_000_000,
            direction: 'down',
            webhook: { url: `http://127.0.0.1:${port}/hook`, secret: 'dist-secret' },
          });
          expect(created.status, created.text).toBe(201);
          const id = created.json.alert.id;
          await waitFor(
            async () => {
              const ev = await adminApi<{ events: { to: string; notified: string }[] }>(
                c,
                'GET',
                `/v1/alerts/${id}/events`,
              );
              expect(ev.json.events.map((e) => [e.to, e.notified])).toEqual([['firing', 'sent']]);
            },
            { timeoutMs: 30_000 },
          );
          const mine = got.filter((g) => g.body.includes(id));
          expect(mine).toHaveLength(1);
          expect(
            verifyWebhook('dist-secret', mine[0]!.headers, mine[0]!.body, {
              nowMs: Number(mine[0]!.headers['x-cdp-timestamp']) * 1000,
            }),
          ).toEqual({ ok: true });
          expect((await adminApi(c, 'DELETE', `/v1/alerts/${id}`)).status).toBe(204);
        } finally {
          await new Promise<void>((r) => receiver.close(() => r()));
        }
      });

      it('the two identity processes share the events topic', async () => {
        const before = await stamped();
        const run = randomUUID().slice(0, 8);
        // 40 people, keyed by anonymous id over the 4 partitions.
        await post(Array.from({ length: 40 }, (_, i) => track(`${run}-${i}`, `s-${run}-${i}`)));
        await waitFor(
          async () =>
            expect(
              await sql(
                c,
                'SELECT uniqExact(message_id) AS n FROM events WHERE message_id LIKE {p:String}',
                { p: `${run}-%` },
              ),
            ).toEqual([{ n: 40 }]),
          { timeoutMs: 30_000, what: 'the 40 events to be stamped and loaded' },
        );
        const after = await stamped();
        expect(after[0]).toBeGreaterThan(before[0] ?? 0);
        expect(after[1]).toBeGreaterThan(before[1] ?? 0);
      });

      it('an event stamped before an erase and loaded after it is left out by the loader', async () => {
        const run = randomUUID().slice(0, 8);
        const anon = `late-${run}`;
        await post([track(`${run}-1`, anon)]);
        const [row] = await waitFor(
          async () => {
            const r = await sql<{ person_id: string }>(
              c,
              'SELECT person_id FROM events_by_person WHERE message_id = {m:String}',
              { m: `${run}-1` },
            );
            expect(r).toHaveLength(1);
            return r;
          },
          { timeoutMs: 20_000 },
        );
        const person = row?.person_id ?? '';
        const loader = topo().loader;
        const erasedBefore = await counter(loader, 'cdp_loader_erased_total');
        // The loader pauses; the next event is stamped with the person meanwhile.
        loader.child.kill('SIGSTOP');
        try {
          const before = (await stamped()).reduce((a, b) => a + b, 0);
          await post([track(`${run}-2`, anon)]);
          await waitFor(async () => (await stamped()).reduce((a, b) => a + b, 0) > before, {
            timeoutMs: 20_000,
            what: 'the late event to be stamped',
          });
          const del = await adminApi(c, 'DELETE', `/v1/persons/${person}`);
          expect(del.status, del.text).toBe(200);
        } finally {
          loader.child.kill('SIGCONT');
        }
        // The same anonymous id again: the same partition, after the late
        // event; it is a new person's (the stampers forgot the erased one).
        const marker = `${run}-marker`;
        await post([track(marker, anon)]);
        await waitFor(
          async () =>
            expect(
              await sql(c, 'SELECT 1 FROM events WHERE message_id = {m:String}', { m: marker }),
            ).toHaveLength(1),
          { timeoutMs: 20_000, what: 'the marker to be loaded' },
        );
        expect(
          await sql(c, 'SELECT message_id FROM events WHERE message_id LIKE {p:String}', {
            p: `${run}-_`,
          }),
        ).toEqual([]);
        expect(await counter(loader, 'cdp_loader_erased_total')).toBeGreaterThan(erasedBefore);
      });

      it('kill -9 of the resolving identity process mid-stream: after a restart every person is whole, nothing recorded twice', async () => {
        const run = randomUUID().slice(0, 8);
        const people = Array.from({ length: 20 }, (_, i) => i);
        const anon = (i: number): string => `k-${run}-${i}`;
        const user = (i: number): string => `ku-${run}-${i}`;
        await post(people.map((i) => track(`${run}-a${i}`, anon(i))));
        // The active resolver is the process that applies links (the new
        // anonymous ids are links too).
        const links = await waitFor(
          async () => {
            const n = await Promise.all(
              topo().identity.map((s) => counter(s, 'cdp_identity_links_total')),
            );
            expect(Math.max(...n), 'links applied by a resolver').toBeGreaterThan(0);
            return n;
          },
          { timeoutMs: 20_000 },
        );
        const victim = topo().identity[(links[1] ?? 0) > (links[0] ?? 0) ? 1 : 0] as ServiceProcess;
        // Logins to resolve (merges) in flight when it dies.
        await post(
          people.map((i) => ({
            type: 'identify',
            messageId: `${run}-b${i}`,
            anonymousId: anon(i),
            userId: user(i),
          })),
        );
        await topo().crashAndRestart(victim);
        await post(
          people.map((i) => ({
            type: 'track',
            event: 'E',
            messageId: `${run}-c${i}`,
            userId: user(i),
          })),
        );
        // Every person's three events under one person, twenty people. The
        // group waits for the dead member's Kafka session to expire (30 s).
        await waitFor(
          async () => {
            const rows = await sql<{ m: string; p: string }>(
              c,
              `SELECT message_id AS m, any(person_id) AS p FROM events_by_person
               WHERE message_id LIKE {p:String} GROUP BY message_id`,
              { p: `${run}-%` },
            );
            expect(rows).toHaveLength(60);
            const personOf = new Map(rows.map((r) => [r.m.slice(run.length + 1), r.p]));
            for (const i of people) {
              expect(personOf.get(`b${i}`), `person ${i}`).toBe(personOf.get(`a${i}`));
              expect(personOf.get(`c${i}`), `person ${i}`).toBe(personOf.get(`a${i}`));
            }
            expect(new Set(personOf.values()).size).toBe(20);
          },
          { timeoutMs: 90_000, intervalMs: 500, what: 'twenty whole people after the crash' },
        );
        // At least once: an event stamped again after the crash may be
        // stored twice, but its copies share the sorting key (FINAL keeps one).
        expect(
          await sql(
            c,
            `SELECT message_id FROM events WHERE message_id LIKE {p:String}
             GROUP BY message_id HAVING uniqExact(source_id, anonymous_id, user_id) > 1`,
            { p: `${run}-%` },
          ),
        ).toEqual([]);
        // The resolver's outcomes are recorded once, replayed or not.
        expect(
          await sql(
            c,
            `SELECT request_id, kind, reason, count() AS n FROM identity_audit
             WHERE request_id LIKE {p:String}
             GROUP BY request_id, kind, reason, one_id, other_id HAVING n > 1`,
            { p: `${run}-%` },
          ),
        ).toEqual([]);
        // Each identifier is one person's, and each login's two identifiers the same one's.
        const held = await sql<{ v: string; p: string }>(
          c,
          `SELECT id_value AS v, one_id AS p FROM identities FINAL WHERE id_value LIKE {p:String}`,
          { p: `%-${run}-%` },
        );
        expect(held).toHaveLength(40);
        const holder = new Map(held.map((r) => [r.v, r.p]));
        for (const i of people) expect(holder.get(anon(i))).toBe(holder.get(user(i)));
      }, 150_000);
    },
  );
});
