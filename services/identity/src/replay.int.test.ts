/**
 * The resolver's outcomes are recorded once: replaying links over the stored
 * graph changes nothing (no second conflict, no spurious split block, no
 * refusal of a split that succeeded), and a split or a delete whose writes
 * stopped half-way is completed, not refused, when its batch comes again.
 * Real parts: the embedded bus and chDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CdpError, createLogger, topics as topicNames, type Topics } from '@cdp/core';
import { type Bus } from '@cdp/bus';
import { createIdentityRules, type LinkMessage, type ResolveLink } from '@cdp/identity';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import { waitFor } from '@cdp/testkit';
import { openParts, storedPersonOf, type Parts } from './test-parts.js';
import { createIdentityMetrics } from './metrics.js';
import { createResolver, type Resolver } from './resolver.js';

const logger = createLogger({ service: 'replay-test', level: 'silent' });

interface AuditRow {
  kind: string;
  reason: string;
  request_id: string;
  one_id: string;
  other_id: string;
}

describe('resolver outcomes recorded by request (embedded bus, chDB)', () => {
  let parts: Parts;
  let bus: Bus;
  let warehouse: Warehouse;

  beforeAll(async () => {
    parts = await openParts('cdp-replay', logger);
    ({ bus, warehouse } = parts);
  });
  afterAll(() => parts?.close());

  /** The real warehouse, with the first `n` inserts into `table` failing (after the others of the batch went in). */
  const failing = (
    table: string,
    n: number,
    when: (rows: readonly Record<string, unknown>[]) => boolean = () => true,
    /** The error of the `i`th failure (0 first): by default a plain one, as a refused row gives. */
    error: (i: number) => Error = () => new Error(`injected failure of the insert into ${table}`),
  ): Warehouse & { left(): number } => {
    let left = n;
    return {
      ...warehouse,
      left: () => left,
      migrate: () => warehouse.migrate(),
      insert: async (t, rows, o) => {
        if (t === table && left > 0 && when(rows)) {
          left--;
          throw error(n - left - 1);
        }
        return warehouse.insert(t, rows, o);
      },
      insertLines: (t, lines, o) => warehouse.insertLines(t, lines, o),
      query: (sql, params) => warehouse.query(sql, params),
      command: (sql, params) => warehouse.command(sql, params),
      queryReadonly: (sql, params, o) => warehouse.queryReadonly(sql, params, o),
      ping: () => warehouse.ping(),
      close: () => warehouse.close(),
    };
  };

  const startResolver = async (t: Topics, group: string, wh = warehouse): Promise<Resolver> => {
    const r = createResolver({
      bus,
      warehouse: wh,
      topics: t,
      logger,
      rules: createIdentityRules(),
      metrics: createIdentityMetrics(),
      group,
    });
    await r.start();
    return r;
  };

  const identify = (anon: string, user: string): ResolveLink => ({
    op: 'resolve',
    messageId: randomUUID(),
    at: Date.now(),
    kind: 'identify',
    identifiers: [
      { type: 'user_id', value: user },
      { type: 'anonymous_id', value: anon },
    ],
  });
  const send = (t: Topics, ...links: LinkMessage[]): Promise<void> =>
    bus.produce(
      t.identityLinks,
      links.map((l) => ({ key: 'identity', value: JSON.stringify(l) })),
    );
  const personOf = (type: string, value: string): Promise<string | undefined> =>
    storedPersonOf(warehouse, type, value);
  const audit = (requestIds: string[]): Promise<AuditRow[]> =>
    warehouse.query<AuditRow>(
      `SELECT kind, reason, request_id, one_id, other_id FROM ${TABLES.identityAudit}
       WHERE request_id IN {ids:Array(String)} ORDER BY request_id, kind, reason, one_id, other_id`,
      { ids: requestIds },
    );
  const newTopics = async (name: string): Promise<Topics> => {
    const t = topicNames(`${name}-${randomUUID().slice(0, 8)}.`);
    await bus.ensureTopics([
      { name: t.identityLinks, partitions: 1 },
      { name: t.identityMerges, partitions: 1 },
      { name: t.identityChanges, partitions: 1 },
      { name: t.eventsResolved, partitions: 1 },
      { name: t.eventsInvalid, partitions: 1 },
    ]);
    return t;
  };

  it('a replay of the links topic over the stored graph adds no audit row and changes no identity', async () => {
    const t = await newTopics('replay');
    const [a1, a2, u1, u2, a9, u9] = ['a1', 'a2', 'u1', 'u2', 'a9', 'u9'].map(
      (p) => `${p}-${randomUUID()}`,
    ) as [string, string, string, string, string, string];
    const first = await startResolver(t, `${t.identityLinks}.resolver`);
    const l1 = identify(a1, u1);
    const l2 = identify(a1, u2); // a second user id on the person: a conflict, refused
    const l3 = identify(a2, u1);
    await send(t, l1, l2, l3);
    let person: string | undefined;
    await waitFor(async () => {
      person = await personOf('anonymous_id', a2);
      expect(person).toBeDefined();
    });
    const split: LinkMessage = {
      op: 'split',
      requestId: randomUUID(),
      oneId: person as string,
      identifiers: [{ type: 'anonymous_id', value: a2 }],
      at: Date.now(),
    };
    await send(t, split);
    await waitFor(async () => expect(await personOf('anonymous_id', a2)).not.toBe(person));
    await first.stop();
    const ids = [l1.messageId, l2.messageId, l3.messageId, split.requestId];
    const before = await audit(ids);
    expect(before.filter((r) => r.kind === 'refusal').length).toBeGreaterThan(0);
    expect(before.filter((r) => r.kind === 'split').length).toBeGreaterThan(0);
    const identitiesBefore = await warehouse.query(
      `SELECT id_type, id_value, one_id FROM ${TABLES.identities} FINAL
       WHERE id_value IN {v:Array(String)} ORDER BY id_type, id_value`,
      { v: [a1, a2, u1, u2] },
    );

    // A resolver that reads the topic from the start (its offsets were never
    // committed, or a standby started from an older offset).
    const again = await startResolver(t, `${t.identityLinks}.resolver-again`);
    try {
      // A link after the replayed ones: once it is stored, the replay is done.
      await send(t, identify(a9, u9));
      await waitFor(async () => expect(await personOf('anonymous_id', a9)).toBeDefined());
      expect(await audit(ids)).toEqual(before);
      expect(
        await warehouse.query(
          `SELECT id_type, id_value, one_id FROM ${TABLES.identities} FINAL
           WHERE id_value IN {v:Array(String)} ORDER BY id_type, id_value`,
          { v: [a1, a2, u1, u2] },
        ),
      ).toEqual(identitiesBefore);
    } finally {
      await again.stop();
    }
  });

  it('completes a split whose batch stopped after the identities were written', async () => {
    const t = await newTopics('split-half');
    const [a1, a2, u1] = ['a1', 'a2', 'u1'].map((p) => `${p}-${randomUUID()}`) as [
      string,
      string,
      string,
    ];
    const flaky = failing(TABLES.identityBlocks, 1);
    const r = await startResolver(t, `${t.identityLinks}.resolver`, flaky);
    try {
      await send(t, identify(a1, u1), identify(a2, u1));
      let person: string | undefined;
      await waitFor(async () => {
        person = await personOf('anonymous_id', a2);
        expect(person).toBeDefined();
      });
      const split: LinkMessage = {
        op: 'split',
        requestId: randomUUID(),
        oneId: person as string,
        identifiers: [{ type: 'anonymous_id', value: a2 }],
        at: Date.now(),
      };
      await send(t, split);
      await waitFor(async () => {
        expect(flaky.left()).toBe(0);
        const rows = await audit([split.requestId]);
        expect(rows.length).toBeGreaterThan(0);
        // The split as it succeeded, once: no refusal of it.
        expect(rows.every((x) => x.kind === 'split' && x.reason === 'manual_split')).toBe(true);
        expect(rows.length).toBe(1);
      });
      const other = await personOf('anonymous_id', a2);
      expect(other).not.toBe(person);
      const [lo, hi] = [person as string, other as string].sort() as [string, string];
      const blocks = await warehouse.query(
        `SELECT one_id FROM ${TABLES.identityBlocks} FINAL
         WHERE one_id = {lo:String} AND other_one_id = {hi:String}`,
        { lo, hi },
      );
      expect(blocks).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });

  it('keeps a half-written batch when the warehouse is busy while it is redone, and completes it then', async () => {
    const t = await newTopics('split-busy');
    const [a1, a2, u1] = ['a1', 'a2', 'u1'].map((p) => `${p}-${randomUUID()}`) as [
      string,
      string,
      string,
    ];
    // The split's batch stops after its identities; the first redo meets a
    // busy warehouse (retryable), the next one goes through.
    const flaky = failing(TABLES.identityBlocks, 2, undefined, (i) =>
      i === 0
        ? new Error('injected failure of the insert into identity_blocks')
        : new CdpError('CDP_ERR_WAREHOUSE_UNAVAILABLE', {
            message: 'injected: too many simultaneous queries',
            retryable: true,
          }),
    );
    const r = await startResolver(t, `${t.identityLinks}.resolver`, flaky);
    try {
      await send(t, identify(a1, u1), identify(a2, u1));
      let person: string | undefined;
      await waitFor(async () => {
        person = await personOf('anonymous_id', a2);
        expect(person).toBeDefined();
      });
      const split: LinkMessage = {
        op: 'split',
        requestId: randomUUID(),
        oneId: person as string,
        identifiers: [{ type: 'anonymous_id', value: a2 }],
        at: Date.now(),
      };
      await send(t, split);
      await waitFor(async () => {
        expect(flaky.left()).toBe(0);
        const rows = await audit([split.requestId]);
        // The split as it succeeded, once: the journal was not given up
        // (a batch decided again would refuse it: its identifier moved).
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ kind: 'split', reason: 'manual_split' });
      });
      const states = await warehouse.query<{ state: string }>(
        `SELECT state FROM ${TABLES.identityResolverProgress} WHERE links_topic = {t:String}`,
        { t: t.identityLinks },
      );
      expect(states.map((x) => x.state)).not.toContain('abandoned');
      expect(await personOf('anonymous_id', a2)).not.toBe(person);
    } finally {
      await r.stop();
    }
  });

  it('completes a delete whose batch stopped after the identities were erased', async () => {
    const t = await newTopics('delete-half');
    const [a1, u1] = ['a1', 'u1'].map((p) => `${p}-${randomUUID()}`) as [string, string];
    const flaky = failing(TABLES.identityTombstones, 1);
    const r = await startResolver(t, `${t.identityLinks}.resolver`, flaky);
    try {
      await send(t, identify(a1, u1));
      let person: string | undefined;
      await waitFor(async () => {
        person = await personOf('anonymous_id', a1);
        expect(person).toBeDefined();
      });
      const del: LinkMessage = {
        op: 'delete',
        requestId: randomUUID(),
        oneId: person as string,
        at: Date.now(),
      };
      await send(t, del);
      await waitFor(async () => {
        expect(flaky.left()).toBe(0);
        const rows = await audit([del.requestId]);
        expect(rows.map((x) => `${x.kind}:${x.reason}`)).toEqual(['delete:gdpr_delete']);
      });
      const tombstones = await warehouse.query(
        `SELECT one_id FROM ${TABLES.identityTombstones} WHERE one_id = {id:String}`,
        { id: person as string },
      );
      expect(tombstones).toHaveLength(1);
      expect(await personOf('anonymous_id', a1)).toBeUndefined();
    } finally {
      await r.stop();
    }
  });

  it('writes the audit rows of a batch redone after they were stored only once', async () => {
    const t = await newTopics('audit-once');
    const [a1, u1, u2] = ['a1', 'u1', 'u2'].map((p) => `${p}-${randomUUID()}`) as [
      string,
      string,
      string,
    ];
    // Every row stored, then the `done` mark fails: the batch comes again.
    const flaky = failing(
      TABLES.identityResolverProgress,
      1,
      (rows) => rows[0]?.['state'] === 'done',
    );
    const r = await startResolver(t, `${t.identityLinks}.resolver`, flaky);
    try {
      const l1 = identify(a1, u1);
      const l2 = identify(a1, u2);
      await send(t, l1, l2);
      await waitFor(async () => {
        expect(flaky.left()).toBe(0);
        const progress = await warehouse.query<{ state: string }>(
          `SELECT state FROM ${TABLES.identityResolverProgress} FINAL WHERE links_topic = {t:String}`,
          { t: t.identityLinks },
        );
        expect(progress.map((p) => p.state)).toEqual(['done']);
      });
      const rows = await audit([l2.messageId]);
      expect(rows.filter((x) => x.kind === 'refusal')).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });
});
