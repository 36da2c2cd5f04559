/**
 * The resolver on real parts (embedded bus, chDB): what it persists is the
 * graph, also when a write fails half-way and the batch comes again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, topics as topicNames } from '@cdp/core';
import { createConsumerHealth, createEmbeddedBus, type Bus } from '@cdp/bus';
import { createIdentityRules, type ResolveLink } from '@cdp/identity';
import { createClickHouseWarehouse, TABLES, type Warehouse } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createIdentityMetrics } from './metrics.js';
import { createResolver } from './resolver.js';
import { loadSnapshot } from './store.js';

const logger = createLogger({ service: 'resolver-test', level: 'silent' });
const t = topicNames('rt.');

describe('identity resolver on the embedded bus and chDB', () => {
  let dir: TempDir;
  let bus: Bus;
  let warehouse: Warehouse;

  beforeAll(async () => {
    dir = await tempDir('cdp-resolver');
    warehouse = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
    await warehouse.migrate();
    bus = await createEmbeddedBus({ dir: dir.join('bus'), logger });
    await bus.ensureTopics([
      { name: t.identityLinks, partitions: 1 },
      { name: t.identityMerges, partitions: 1 },
    ]);
  });
  afterAll(async () => {
    await bus?.close();
    await warehouse?.close();
    await dir?.remove();
  });

  it('persists the graph it holds, even when an insert failed once and the batch came again', async () => {
    let failures = 1;
    // The real warehouse, with the first insert into `identities` failing.
    const flaky: Warehouse = {
      kind: warehouse.kind,
      migrate: () => warehouse.migrate(),
      insert: async (table, rows, opts) => {
        if (table === TABLES.identities && failures > 0) {
          failures--;
          throw new Error('injected insert failure');
        }
        return warehouse.insert(table, rows, opts);
      },
      insertLines: (table, lines, opts) => warehouse.insertLines(table, lines, opts),
      query: (sql, params) => warehouse.query(sql, params),
      command: (sql, params) => warehouse.command(sql, params),
      queryReadonly: (sql, params, opts) => warehouse.queryReadonly(sql, params, opts),
      ping: () => warehouse.ping(),
      close: () => warehouse.close(),
    };
    const resolver = createResolver({
      bus,
      warehouse: flaky,
      topics: t,
      logger,
      rules: createIdentityRules(),
      metrics: createIdentityMetrics(),
      group: 'rt.resolver',
    });
    await resolver.start();
    try {
      const link = (messageId: string, ids: [string, string][]): ResolveLink => ({
        op: 'resolve',
        messageId,
        at: 1_700_000_000_000,
        kind: 'identify',
        identifiers: ids.map(
          ([type, value]) => ({ type, value }) as ResolveLink['identifiers'][number],
        ),
      });
      await bus.produce(t.identityLinks, [
        { key: 'identity', value: JSON.stringify(link('m1', [['anonymous_id', 'a1']])) },
        {
          key: 'identity',
          value: JSON.stringify(
            link('m2', [
              ['user_id', 'u1'],
              ['anonymous_id', 'a1'],
            ]),
          ),
        },
      ]);
      await waitFor(
        async () => {
          const rows = await warehouse.query<{ id_type: string; one_id: string }>(
            `SELECT id_type, one_id FROM ${TABLES.identities} FINAL ORDER BY id_type`,
          );
          expect(rows.map((r) => r.id_type)).toEqual(['anonymous_id', 'user_id']);
          expect(new Set(rows.map((r) => r.one_id)).size).toBe(1);
        },
        { timeoutMs: 20_000 },
      );
      expect(failures).toBe(0);
      const persisted = await loadSnapshot(warehouse);
      expect(persisted.identities.map((r) => r.one_id).sort()).toEqual(
        resolver
          .graph()
          .export()
          .identities.map((r) => r.one_id)
          .sort(),
      );
    } finally {
      await resolver.stop();
    }
  });

  it('dead-letters a link the warehouse refuses and resolves every later one', async () => {
    const tp = topicNames('rt-poison.');
    await bus.ensureTopics([
      { name: tp.identityLinks, partitions: 1 },
      { name: tp.eventsInvalid, partitions: 1 },
    ]);
    const health = createConsumerHealth();
    const resolver = createResolver({
      bus,
      warehouse,
      topics: tp,
      logger,
      rules: createIdentityRules(),
      metrics: createIdentityMetrics(),
      group: 'rt-poison.resolver',
      health,
    });
    const dead: { code: string; reason: string; payload: string }[] = [];
    const sub = await bus.subscribe({
      topic: tp.eventsInvalid,
      group: 'rt-poison.tail',
      maxWaitMs: 5,
      handleBatch: async (b) => {
        for (const m of b.messages) dead.push(JSON.parse(m.value.toString('utf8')) as never);
      },
    });
    await resolver.start();
    try {
      const link = (messageId: string, user: string): string =>
        JSON.stringify({
          op: 'resolve',
          messageId,
          at: 1_700_000_000_000,
          kind: 'identify',
          identifiers: [
            { type: 'user_id', value: user },
            { type: 'anonymous_id', value: `anon-${messageId}` },
          ],
        });
      // A lone surrogate (as another producer may send it): ClickHouse
      // refuses the row ("missing second part of surrogate pair").
      await bus.produce(tp.identityLinks, [
        { key: 'identity', value: link('p1', 'poison-before') },
        { key: 'identity', value: link('p2', 'x\ud800') },
        { key: 'identity', value: link('p3', 'poison-after') },
      ]);
      await bus.produce(tp.identityLinks, [{ key: 'identity', value: link('p4', 'poison-later') }]);
      await waitFor(
        async () => {
          const rows = await warehouse.query<{ id_value: string }>(
            `SELECT id_value FROM ${TABLES.identities} WHERE id_type = 'user_id' AND id_value LIKE 'poison-%' ORDER BY id_value`,
          );
          expect(rows.map((r) => r.id_value)).toEqual([
            'poison-after',
            'poison-before',
            'poison-later',
          ]);
        },
        { timeoutMs: 30_000 },
      );
      await waitFor(() => expect(dead.length).toBe(1));
      expect(dead[0]?.code).toBe('CDP_ERR_IDENTITY_BAD_LINK');
      expect(dead[0]?.payload).toContain('"messageId":"p2"');
      expect(dead[0]?.reason).toMatch(/identity\.resolver: rt-poison\.identity\.links offset 1: /);
      expect(health.stuck()).toEqual([]);
    } finally {
      await resolver.stop();
      await sub.close();
    }
  });
});
