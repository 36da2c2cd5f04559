/**
 * Resolver failover: one resolver of the group is active on the single links
 * partition, a standby takes over when it goes, and a resolver that gets the
 * partition back after others decided in between (a rebalance: its offsets
 * moved) must decide from their graph, not its own stale one. Real parts:
 * the embedded bus (its consumer group hands the partition over) and chDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createLogger, topics as topicNames } from '@cdp/core';
import { type Bus, type SubscribeOptions, type Subscription } from '@cdp/bus';
import { createIdentityRules, type ResolveLink } from '@cdp/identity';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import { waitFor } from '@cdp/testkit';
import { openParts, storedPersonOf, type Parts } from './test-parts.js';
import { createIdentityMetrics } from './metrics.js';
import { createResolver, type Resolver } from './resolver.js';

const logger = createLogger({ service: 'failover-test', level: 'silent' });

describe('resolver failover (embedded bus, chDB)', () => {
  let parts: Parts;
  let bus: Bus;
  let warehouse: Warehouse;

  beforeAll(async () => {
    parts = await openParts('cdp-failover', logger);
    ({ bus, warehouse } = parts);
  });
  afterAll(() => parts?.close());

  /**
   * The real bus, with this member's group membership in the test's hands:
   * `revoke` leaves the group (the partition goes to the next member) and
   * `assign` joins again, as a Kafka rebalance does to a consumer that stays
   * up. The resolver keeps its state throughout.
   */
  const membership = (): Bus & { revoke(): Promise<void>; assign(): Promise<void> } => {
    let opts: SubscribeOptions | undefined;
    let sub: Subscription | undefined;
    return {
      kind: bus.kind,
      ensureTopics: (s) => bus.ensureTopics(s),
      produce: (t, r) => bus.produce(t, r),
      purgeConsumed: (t) => bus.purgeConsumed(t),
      ping: () => bus.ping(),
      close: () => bus.close(),
      async subscribe(o) {
        // The resolver's own subscription; any other (none today) as it is.
        if (!o.topic.endsWith('identity.links')) return bus.subscribe(o);
        opts = o;
        sub = await bus.subscribe(o);
        return { close: async () => sub?.close() };
      },
      async revoke() {
        await sub?.close();
        sub = undefined;
      },
      async assign() {
        if (opts) sub = await bus.subscribe(opts);
      },
    };
  };

  it('a resolver that gets the partition back decides from what the others stored meanwhile', async () => {
    const t = topicNames(`fo-${randomUUID().slice(0, 8)}.`);
    await bus.ensureTopics([
      { name: t.identityLinks, partitions: 1 },
      { name: t.identityMerges, partitions: 1 },
      { name: t.identityChanges, partitions: 1 },
      { name: t.eventsResolved, partitions: 1 },
      { name: t.eventsInvalid, partitions: 1 },
    ]);
    const group = `${t.identityLinks}.resolver`;
    const make = (b: Bus): Resolver =>
      createResolver({
        bus: b,
        warehouse,
        topics: t,
        logger,
        rules: createIdentityRules(),
        metrics: createIdentityMetrics(),
        group,
      });
    const link = (pairs: [string, string][]): ResolveLink => ({
      op: 'resolve',
      messageId: randomUUID(),
      at: Date.now(),
      kind: 'identify',
      identifiers: pairs.map(([type, value]) => ({ type, value }) as ResolveLink['identifiers'][0]),
    });
    const send = (l: ResolveLink): Promise<void> =>
      bus.produce(t.identityLinks, [{ key: 'identity', value: JSON.stringify(l) }]);
    const personOf = (type: string, value: string): Promise<string | undefined> =>
      storedPersonOf(warehouse, type, value);
    const [a1, d1, u1, u2] = ['a1', 'd1', 'u1', 'u2'].map((p) => `${p}-${randomUUID()}`) as [
      string,
      string,
      string,
      string,
    ];

    const aBus = membership();
    const a = make(aBus);
    const b = make(bus);
    await a.start(); // first member: active
    await b.start(); // standby
    try {
      await send(
        link([
          ['user_id', u1],
          ['anonymous_id', a1],
        ]),
      );
      let person: string | undefined;
      await waitFor(async () => {
        person = await personOf('anonymous_id', a1);
        expect(person).toBeDefined();
      });

      // A loses the partition; the standby (loaded before any of this)
      // decides: a device seen with a1 joins a1's person.
      await aBus.revoke();
      await send(
        link([
          ['device_id', d1],
          ['anonymous_id', a1],
        ]),
      );
      await waitFor(async () => expect(await personOf('device_id', d1)).toBe(person));

      // A gets it back (B goes): its graph never saw the device.
      await aBus.assign();
      await b.stop();
      const conflict = link([
        ['user_id', u2],
        ['device_id', d1],
      ]);
      await send(conflict);
      // Decided from the stored graph: the device belongs to the person
      // holding u1, so u2 is refused there, never a new person of d1 and u2.
      await waitFor(async () => {
        const rows = await warehouse.query<{ reason: string }>(
          `SELECT reason FROM ${TABLES.identityAudit} WHERE request_id = {id:String} AND kind = 'refusal'`,
          { id: conflict.messageId },
        );
        expect(rows.length).toBeGreaterThan(0);
      });
      expect(await personOf('device_id', d1)).toBe(person);
      expect(await personOf('anonymous_id', a1)).toBe(person);
      expect(await personOf('user_id', u1)).toBe(person);
      expect(await personOf('user_id', u2)).not.toBe(person);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
