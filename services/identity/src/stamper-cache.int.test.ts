/**
 * Stampers in their own processes (the docker-compose shape) keep an LRU of
 * the `identities` table. After the resolver erases or splits a person, the
 * next event of the same identifier must not be stamped with the old id: the
 * resolver's `cdp.identity.changes` reaches every stamper, which drops what it
 * cached. Real parts: the embedded bus and chDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { backboneTopicSpecs, createLogger, topics as topicNames, type Topics } from '@cdp/core';
import { type Bus, type Subscription } from '@cdp/bus';
import { createIdentityRules } from '@cdp/identity';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import { waitFor } from '@cdp/testkit';
import { Registry } from 'prom-client';
import { openParts, storedPersonOf, type Parts } from './test-parts.js';
import { createIdentityService, type IdentityService } from './service.js';

const logger = createLogger({ service: 'stamper-cache-test', level: 'silent' });

describe('stamper cache over the warehouse, invalidated by the resolver', () => {
  let parts: Parts;
  let bus: Bus;
  let warehouse: Warehouse;

  beforeAll(async () => {
    parts = await openParts('cdp-stamper-cache', logger);
    ({ bus, warehouse } = parts);
  });
  afterAll(() => parts?.close());

  /** Starts resolver + a warehouse-cache stamper on fresh topics; collects what the stamper stamps. */
  async function setup(prefix: string): Promise<{
    t: Topics;
    send(event: Record<string, unknown>): Promise<string>;
    /** Resolves once the stamper has read every change published so far, and one names `oneId`. */
    stamperSawChange(oneId: string): Promise<void>;
    stop(): Promise<void>;
  }> {
    const t = topicNames(prefix);
    await bus.ensureTopics(backboneTopicSpecs(prefix, 1));
    const stamped = new Map<string, string>();
    const out: Subscription = await bus.subscribe({
      topic: t.eventsResolved,
      group: `${prefix}reader`,
      maxWaitMs: 10,
      handleBatch: async (b) => {
        for (const m of b.messages) {
          const v = JSON.parse(m.value.toString('utf8')) as { oneId: string; messageId: string };
          // The stamper's copy, not a correction the resolver sends after it.
          if (!stamped.has(v.messageId)) stamped.set(v.messageId, v.oneId);
        }
      },
    });
    // Every change the resolver publishes, read here too: the stamper has
    // read all of them when its counter reaches their total.
    const published = { people: 0, ids: new Set<string>() };
    const changes: Subscription = await bus.subscribe({
      topic: t.identityChanges,
      group: `${prefix}changes-reader`,
      maxWaitMs: 10,
      handleBatch: async (b) => {
        for (const m of b.messages) {
          const c = JSON.parse(m.value.toString('utf8')) as { oneIds: string[] };
          published.people += c.oneIds.length;
          for (const id of c.oneIds) published.ids.add(id);
        }
      },
    });
    // The resolver with a stamper, and a second stamper instance in its own
    // process shape (no resolver): both must drop what they cached.
    const registries = [new Registry(), new Registry()];
    const services: IdentityService[] = registries.map((registry, n) =>
      createIdentityService({
        registry,
        bus,
        warehouse,
        topics: t,
        logger,
        rules: createIdentityRules(),
        groupPrefix: prefix,
        stamperCache: 'warehouse',
        resolver: n === 0,
      }),
    );
    for (const service of services) await service.start();
    return {
      t,
      async send(event) {
        const messageId = randomUUID();
        await bus.produce(t.eventsRaw, [
          {
            key: String(event['anonymousId'] ?? event['userId']),
            value: JSON.stringify({
              messageId,
              receivedAt: Date.now(),
              type: event['type'] ?? 'track',
              event: { type: 'track', event: 'Viewed', messageId, ...event },
            }),
          },
        ]);
        let id: string | undefined;
        await waitFor(() => {
          id = stamped.get(messageId);
          expect(id).toBeDefined();
        });
        return id as string;
      },
      async stamperSawChange(oneId) {
        await waitFor(async () => {
          expect(published.ids.has(oneId)).toBe(true);
          for (const registry of registries) {
            const m = await registry
              .getSingleMetric('cdp_identity_stamper_changes_read_total')
              ?.get();
            expect(m?.values.reduce((n, v) => n + v.value, 0)).toBe(published.people);
          }
        });
      },
      async stop() {
        for (const service of services) await service.stop();
        await out.close();
        await changes.close();
      },
    };
  }

  const identityOf = (type: string, value: string): Promise<string | undefined> =>
    storedPersonOf(warehouse, type, value);

  // A known user, and an anonymous visitor whose person id is the
  // provisional id of the anonymous id itself (the stamper must not pick it
  // again for the same anonymous id).
  it.each([
    ['a known user', true],
    ['an anonymous visitor', false],
  ])(
    'stamps the next event of an erased person (%s) with a new id and sends its link',
    async (_, known) => {
      const s = await setup(`sc-del-${randomUUID().slice(0, 8)}.`);
      try {
        const anon = `a-${randomUUID()}`;
        await s.send(
          known
            ? { type: 'identify', anonymousId: anon, userId: `u-${randomUUID()}` }
            : { anonymousId: anon },
        );
        let person: string | undefined;
        await waitFor(async () => {
          person = await identityOf('anonymous_id', anon);
          expect(person).toBeDefined();
        });
        // The stamper now knows (and caches) the person.
        expect(await s.send({ anonymousId: anon })).toBe(person);

        await bus.produce(s.t.identityLinks, [
          {
            key: 'identity',
            value: JSON.stringify({
              op: 'delete',
              requestId: randomUUID(),
              oneId: person,
              at: Date.now(),
            }),
          },
        ]);
        await waitFor(async () => {
          const rows = await warehouse.query<{ n: string }>(
            `SELECT count() AS n FROM ${TABLES.identityTombstones} WHERE one_id = {id:String}`,
            { id: person as string },
          );
          expect(Number(rows[0]?.n)).toBe(1);
        });
        // Once the stamper has read the change, the very next event gets a
        // new id (never the erased one, never a reused provisional id), and
        // its link makes the resolver store the same.
        await s.stamperSawChange(person as string);
        const fresh = await s.send({ anonymousId: anon });
        expect(fresh).not.toBe(person);
        expect(await s.send({ anonymousId: anon })).toBe(fresh);
        await waitFor(async () => expect(await identityOf('anonymous_id', anon)).toBe(fresh));
      } finally {
        await s.stop();
      }
    },
  );

  it('stamps the split-off identifier with its new person', async () => {
    const s = await setup(`sc-split-${randomUUID().slice(0, 8)}.`);
    try {
      const user = `u-${randomUUID()}`;
      const [a1, a2] = [`a1-${randomUUID()}`, `a2-${randomUUID()}`];
      await s.send({ type: 'identify', anonymousId: a1, userId: user });
      await s.send({ type: 'identify', anonymousId: a2, userId: user });
      let person: string | undefined;
      await waitFor(async () => {
        person = await identityOf('anonymous_id', a2);
        expect(person).toBeDefined();
        expect(await identityOf('anonymous_id', a1)).toBe(person);
      });
      expect(await s.send({ anonymousId: a2 })).toBe(person);

      await bus.produce(s.t.identityLinks, [
        {
          key: 'identity',
          value: JSON.stringify({
            op: 'split',
            requestId: randomUUID(),
            oneId: person,
            identifiers: [{ type: 'anonymous_id', value: a2 }],
            at: Date.now(),
          }),
        },
      ]);
      let split: string | undefined;
      await waitFor(async () => {
        split = await identityOf('anonymous_id', a2);
        expect(split).toBeDefined();
        expect(split).not.toBe(person);
      });
      await s.stamperSawChange(split as string);
      expect(await s.send({ anonymousId: a2 })).toBe(split);
      // The person who kept the rest is still stamped as before.
      expect(await s.send({ anonymousId: a1 })).toBe(person);
    } finally {
      await s.stop();
    }
  });
});
