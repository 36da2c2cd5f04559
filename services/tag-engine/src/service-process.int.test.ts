/**
 * The tag engine as its own process on a real Kafka broker (the distributed
 * shape): `node services/tag-engine/dist/main.js` (built by `npm test`)
 * serves its health and run endpoint behind the admin token, computes tags
 * on demand from its warehouse and publishes every change on the Kafka topic
 * `cdp.profiles.tags`. chDB binds a data directory to one process, so the
 * events are written by a child process before the engine starts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, topics as topicNames } from '@cdp/core';
import { openBus, type Bus, type BusMessage } from '@cdp/bus';
import { freePort, kafkaBrokersForTest, tempDir, waitFor, type TempDir } from '@cdp/testkit';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const WAREHOUSE = fileURLToPath(
  new URL('../../../packages/warehouse/dist/index.js', import.meta.url),
);
const brokers = kafkaBrokersForTest();
const run$ = promisify(execFile);
const logger = createLogger({ service: 'tag-engine-process-test', level: 'silent' });

// Skipped only outside CI: in CI, kafkaBrokersForTest throws when no broker can be had.
describe.skipIf(!brokers)('tag engine service process (Kafka, chDB)', () => {
  let dir: TempDir;
  let child: ChildProcess | undefined;
  let bus: Bus;
  let url: string;
  const prefix = `t${randomUUID().slice(0, 8)}.`;
  const admin = `cdp_admin_${randomUUID()}`;

  beforeAll(async () => {
    dir = await tempDir('cdp-tag-engine-proc');
    // Two buyers' orders, written as the loader would, by another process.
    const seed = `
      const { createClickHouseWarehouse } = await import(${JSON.stringify(WAREHOUSE)});
      const w = await createClickHouseWarehouse({ dataDir: ${JSON.stringify(dir.join('clickhouse'))}, database: 'cdp' });
      await w.migrate();
      const row = (id, person, revenue) => ({ message_id: id, source_id: 's', type: 'track', event: 'Order Completed',
        name: '', anonymous_id: 'a-' + person, user_id: '', one_id: person, group_id: '', previous_id: '',
        timestamp: new Date(Date.now() - 86400000).toISOString(), received_at: new Date().toISOString(),
        clock_skew_flag: '', channel: 'Email', utm_source: '', utm_medium: '', utm_campaign: '', utm_term: '',
        utm_content: '', page_url: '', page_path: '', referrer: '', ip: '', user_agent: '', is_bot: false,
        properties: JSON.stringify({ revenue }), traits: '{}', context: '{}' });
      await w.insert('events', [row('m1', 'p1', 700), row('m2', 'p2', 30)]);
      await w.close();`;
    await run$(process.execPath, ['--input-type=module', '-e', seed]);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '',
        CDP_DATA_DIR: dir.path,
        KAFKA_BROKERS: (brokers ?? []).join(','),
        CDP_TOPIC_PREFIX: prefix,
        CDP_TOPIC_PARTITIONS: '2',
        CDP_ADMIN_TOKEN: admin,
        CDP_TAGS_PORT: String(port),
        CDP_TAGS_INTERVAL: '3600',
        CDP_TAGS_LOAD_MARGIN_MS: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    await waitFor(
      async () => {
        const r = await fetch(`${url}/readyz`);
        return r.status === 200;
      },
      { timeoutMs: 60_000, what: 'the tag engine to be ready' },
    );
    bus = await openBus(
      {
        KAFKA_BROKERS: (brokers ?? []).join(','),
        KAFKA_CLIENT_ID: 'tag-test',
        CDP_DATA_DIR: dir.join('unused'),
        CDP_TOPIC_PARTITIONS: 2,
      },
      logger,
    );
  }, 120_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child && child.exitCode === null)
      await new Promise((resolve) => child?.once('exit', resolve));
    await bus?.close();
    await dir?.remove();
  });

  it('runs on demand behind the admin token and publishes the changes on Kafka', async () => {
    const refused = await fetch(`${url}/v1/tags/recompute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);

    const res = await fetch(`${url}/v1/tags/recompute`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await res.json()) as { run: { kind: string; evaluated: number } };
    expect(res.status).toBe(200);
    // The scheduled run at start may have been first: this one is then incremental.
    expect(['full', 'incremental']).toContain(body.run.kind);

    const seen: Record<string, unknown>[] = [];
    const sub = await bus.subscribe({
      topic: topicNames(prefix).profilesTags,
      group: `${prefix}reader`,
      handleBatch: async (b: { messages: readonly BusMessage[] }) => {
        for (const m of b.messages)
          seen.push(JSON.parse(m.value.toString('utf8')) as Record<string, unknown>);
      },
    });
    try {
      // Both buyers' 13 tags each: 7 of RFM, lifecycle, churn risk, member
      // tier, spending power, price sensitivity, preferred channel.
      await waitFor(() => seen.length >= 26, { timeoutMs: 30_000, what: 'every change on Kafka' });
    } finally {
      await sub.close();
    }
    expect(seen).toHaveLength(26);
    expect(seen).toContainEqual(
      expect.objectContaining({
        schemaVersion: 1,
        personId: 'p1',
        tag: 'member_tier',
        from: null,
        to: 'Silver',
      }),
    );
    expect(seen).toContainEqual(
      expect.objectContaining({ personId: 'p2', tag: 'monetary', from: null, to: '30' }),
    );
  });
});
