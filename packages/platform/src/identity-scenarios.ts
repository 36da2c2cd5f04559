/**
 * OneID end to end, on any topology (the all-in-one runner over each bus
 * adapter, or every service as its own process): events go in through the
 * collection API and every check reads ClickHouse through the SQL endpoint
 * and the `events_by_person` view, and the Person API, as an analyst would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '@cdp/bus';
import { createLogger, topics as topicNames } from '@cdp/core';
import { createIdentityRules, type GraphSnapshot } from '@cdp/identity';
import { createIdentityMetrics, createResolver, loadSnapshot } from '@cdp/identity-service';
import { waitFor } from '@cdp/testkit';
import type { Warehouse } from '@cdp/warehouse';
import { adminApi, sendBatch, sql, type Endpoints, type ScenarioHarness } from './e2e-scenarios.js';

/** A running platform the OneID scenarios use, whatever its topology. */
export interface IdentityHarness {
  readonly endpoints: Endpoints;
  /**
   * A bus on the platform's broker and a warehouse on its ClickHouse: the
   * replay check runs a resolver of its own over them (in-process parts of
   * the all-in-one runner; clients of their own for separate processes).
   */
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  readonly cleanup: () => Promise<void>;
}

/** What a scenario has: the endpoints, and the bus and warehouse of the harness. */
export interface IdentityCtx extends Endpoints {
  bus: Bus;
  warehouse: Warehouse;
}

/** The all-in-one runner (`startTestPlatform`) as an {@link IdentityHarness}. */
export function onPlatform(start: () => Promise<ScenarioHarness>): () => Promise<IdentityHarness> {
  return async () => {
    const h = await start();
    const created = h.platform.credentials.created;
    if (!created) throw new Error('expected a first start that creates the default source');
    return {
      endpoints: {
        url: h.platform.url,
        apiUrl: h.platform.url,
        writeKey: created.writeKey,
        admin: h.platform.credentials.adminToken,
      },
      bus: h.platform.bus,
      warehouse: h.platform.warehouse,
      cleanup: h.cleanup,
    };
  };
}

/** Starts the harness before the suite's first test and stops it after the last. */
function useHarness(start: () => Promise<IdentityHarness>): IdentityCtx {
  let h: IdentityHarness | undefined;
  const c = {} as IdentityCtx;
  beforeAll(async () => {
    h = await start();
    Object.assign(c, h.endpoints, { bus: h.bus, warehouse: h.warehouse });
  });
  afterAll(async () => {
    await h?.cleanup();
  });
  return c;
}

type Call = Record<string, unknown> & { type: string };

const send = (c: Endpoints, batch: Call[]): Promise<void> => sendBatch(c, batch);
const api = adminApi;

/** Waits until `n` events of the run are loaded, then returns person_id per message id. */
async function persons(c: Endpoints, run: string, n: number): Promise<Map<string, string>> {
  const rows = await waitFor(
    async () => {
      const r = await sql<{ message_id: string; person_id: string }>(
        c,
        'SELECT message_id, person_id FROM events_by_person WHERE message_id LIKE {p:String}',
        { p: `${run}-%` },
      );
      expect(r).toHaveLength(n);
      return r;
    },
    { timeoutMs: 20_000 },
  );
  return new Map(rows.map((r) => [r.message_id.slice(run.length + 1), r.person_id]));
}

/** Person ids of a run once every override the resolver published is loaded. */
async function settled(
  c: Endpoints,
  run: string,
  n: number,
  expectGroups: number,
): Promise<Map<string, string>> {
  return waitFor(
    async () => {
      const p = await persons(c, run, n);
      expect(new Set(p.values()).size).toBe(expectGroups);
      return p;
    },
    { timeoutMs: 20_000 },
  );
}

/**
 * Sends a fresh event of `anonymousId` (message ids `probe-<run>-<n>`, apart
 * from the run's) until one is loaded under a person `ok` accepts, and
 * returns that person. A stamper in another process learns of a split or
 * an erase from `cdp.identity.changes`, a moment after the API answered; a
 * stamper that never does keeps stamping the old person, and this times out.
 */
async function probe(
  c: Endpoints,
  run: string,
  anonymousId: string,
  ok: (person: string) => boolean,
): Promise<string> {
  let n = 0;
  return waitFor(
    async () => {
      const messageId = `probe-${run}-${n++}`;
      await send(c, [{ type: 'track', messageId, anonymousId, event: 'Probe' }]);
      const person = await waitFor(
        async () => {
          const r = await sql<{ person_id: string }>(
            c,
            'SELECT person_id FROM events_by_person WHERE message_id = {m:String}',
            { m: messageId },
          );
          expect(r).toHaveLength(1);
          return r[0]?.person_id ?? '';
        },
        { timeoutMs: 10_000, what: `${messageId} to be loaded` },
      );
      expect(ok(person), `${messageId} is under ${person}`).toBe(true);
      return person;
    },
    {
      // Under load a consumer group can be rebalancing for a while (a member
      // late with its heartbeat is waited for up to the rebalance timeout,
      // 60 s): stamping waits for it.
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `an event of ${anonymousId} under the right person`,
    },
  );
}

const uid = (): string => Math.random().toString(36).slice(2, 10);
const at = (minute: number): string => new Date(Date.UTC(2026, 10, 1, 10, minute)).toISOString();

/**
 * Registers the scenarios in a suite of their own on a platform from
 * `start`; `more` registers further tests in that suite, on the same
 * platform, after the scenarios.
 */
export function runIdentityScenarios(
  name: string,
  start: () => Promise<IdentityHarness>,
  topicPrefix = 'cdp.',
  more?: (c: IdentityCtx) => void,
): void {
  describe(`OneID end to end (${name})`, () => {
    const c = useHarness(start);

    it('anonymous browsing then login: every earlier event resolves to the person', async () => {
      const run = uid();
      const anon = `anon-${run}`;
      await send(c, [
        { type: 'page', messageId: `${run}-1`, anonymousId: anon, timestamp: at(0) },
        {
          type: 'track',
          messageId: `${run}-2`,
          anonymousId: anon,
          event: 'Product Viewed',
          timestamp: at(1),
        },
      ]);
      await persons(c, run, 2);
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-3`,
          anonymousId: anon,
          userId: `u-${run}`,
          timestamp: at(2),
        },
        {
          type: 'track',
          messageId: `${run}-4`,
          userId: `u-${run}`,
          event: 'Order Completed',
          timestamp: at(3),
        },
      ]);
      const p = await settled(c, run, 4, 1);
      expect(p.get('1')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('the same user on two devices is one person', async () => {
      const run = uid();
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-1`,
          anonymousId: `phone-${run}`,
          userId: `u-${run}`,
          timestamp: at(0),
        },
        {
          type: 'identify',
          messageId: `${run}-2`,
          anonymousId: `laptop-${run}`,
          userId: `u-${run}`,
          timestamp: at(1),
        },
        {
          type: 'track',
          messageId: `${run}-3`,
          anonymousId: `phone-${run}`,
          event: 'A',
          timestamp: at(2),
        },
        {
          type: 'track',
          messageId: `${run}-4`,
          anonymousId: `laptop-${run}`,
          event: 'B',
          timestamp: at(3),
        },
      ]);
      await settled(c, run, 4, 1);
    });

    it('a shared family tablet never welds two logged-in users together, and the refusal is recorded', async () => {
      const run = uid();
      const tablet = `tablet-${run}`;
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-1`,
          anonymousId: tablet,
          userId: `mum-${run}`,
          timestamp: at(0),
        },
      ]);
      await persons(c, run, 1);
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-2`,
          anonymousId: tablet,
          userId: `kid-${run}`,
          timestamp: at(1),
        },
        {
          type: 'track',
          messageId: `${run}-3`,
          userId: `mum-${run}`,
          event: 'M',
          timestamp: at(2),
        },
        {
          type: 'track',
          messageId: `${run}-4`,
          userId: `kid-${run}`,
          event: 'K',
          timestamp: at(3),
        },
      ]);
      // Settled once the resolver's answer for the kid's login is loaded.
      await waitFor(
        async () => {
          const p = await persons(c, run, 4);
          expect(p.get('3')).toBe(p.get('1'));
          expect(p.get('4')).not.toBe(p.get('3'));
          expect(p.get('2')).toBe(p.get('4'));
        },
        { timeoutMs: 20_000 },
      );
      const audit = await waitFor(async () => {
        const r = await sql<{ kind: string; reason: string }>(
          c,
          'SELECT kind, reason FROM identity_audit WHERE request_id = {m:String}',
          { m: `${run}-2` },
        );
        expect(r.length).toBeGreaterThan(0);
        return r;
      });
      expect(audit).toContainEqual({ kind: 'refusal', reason: 'user_id_conflict' });
    });

    it('junk ids link nothing', async () => {
      const run = uid();
      await send(c, [
        {
          type: 'track',
          messageId: `${run}-1`,
          anonymousId: `a1-${run}`,
          userId: 'null',
          event: 'E',
          timestamp: at(0),
        },
        {
          type: 'track',
          messageId: `${run}-2`,
          anonymousId: `a2-${run}`,
          userId: 'null',
          event: 'E',
          timestamp: at(1),
        },
        {
          type: 'track',
          messageId: `${run}-3`,
          anonymousId: `a3-${run}`,
          userId: '0',
          event: 'E',
          timestamp: at(2),
        },
        {
          type: 'track',
          messageId: `${run}-4`,
          anonymousId: `a4-${run}`,
          userId: '00000000-0000-0000-0000-000000000000',
          event: 'E',
          timestamp: at(3),
        },
        {
          type: 'identify',
          messageId: `${run}-5`,
          anonymousId: `a5-${run}`,
          traits: { email: 'undefined' },
          timestamp: at(4),
        },
        {
          type: 'identify',
          messageId: `${run}-6`,
          anonymousId: `a6-${run}`,
          traits: { email: 'undefined' },
          timestamp: at(5),
        },
      ]);
      await settled(c, run, 6, 6);
    });

    it('merge chains collapse: A into B into C, everything resolves to one person', async () => {
      const run = uid();
      await send(c, [
        { type: 'page', messageId: `${run}-1`, anonymousId: `A-${run}`, timestamp: at(0) },
        { type: 'page', messageId: `${run}-2`, anonymousId: `B-${run}`, timestamp: at(1) },
        { type: 'page', messageId: `${run}-3`, anonymousId: `C-${run}`, timestamp: at(2) },
      ]);
      await settled(c, run, 3, 3);
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-4`,
          anonymousId: `A-${run}`,
          traits: { email: `${run}@x.example` },
          timestamp: at(3),
        },
        {
          type: 'identify',
          messageId: `${run}-5`,
          anonymousId: `B-${run}`,
          traits: { email: `${run}@x.example` },
          timestamp: at(4),
        },
      ]);
      await settled(c, run, 5, 2);
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-6`,
          anonymousId: `C-${run}`,
          userId: `u-${run}`,
          timestamp: at(5),
        },
        {
          type: 'identify',
          messageId: `${run}-7`,
          anonymousId: `B-${run}`,
          userId: `u-${run}`,
          timestamp: at(6),
        },
      ]);
      await settled(c, run, 7, 1);
    });

    it('identify before the anonymous events it covers, and after', async () => {
      const run = uid();
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-1`,
          anonymousId: `early-${run}`,
          userId: `u-${run}`,
          timestamp: at(0),
        },
        {
          type: 'track',
          messageId: `${run}-2`,
          anonymousId: `early-${run}`,
          event: 'After identify',
          timestamp: at(1),
        },
        {
          type: 'track',
          messageId: `${run}-3`,
          anonymousId: `late-${run}`,
          event: 'Before identify',
          timestamp: at(2),
        },
      ]);
      await settled(c, run, 3, 2);
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-4`,
          anonymousId: `late-${run}`,
          userId: `u-${run}`,
          timestamp: at(3),
        },
      ]);
      await settled(c, run, 4, 1);
    });

    it('alias links previousId to userId', async () => {
      const run = uid();
      await send(c, [
        {
          type: 'track',
          messageId: `${run}-1`,
          anonymousId: `prev-${run}`,
          event: 'E',
          timestamp: at(0),
        },
        {
          type: 'alias',
          messageId: `${run}-2`,
          previousId: `prev-${run}`,
          userId: `u-${run}`,
          timestamp: at(1),
        },
        { type: 'track', messageId: `${run}-3`, userId: `u-${run}`, event: 'F', timestamp: at(2) },
      ]);
      await settled(c, run, 3, 1);
    });

    it('email and phone written differently resolve to the same person; only hashes are stored', async () => {
      const run = uid();
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-1`,
          anonymousId: `e1-${run}`,
          traits: { email: ` Ada.${run}@Example.COM ` },
          timestamp: at(0),
        },
        {
          type: 'identify',
          messageId: `${run}-2`,
          anonymousId: `e2-${run}`,
          traits: { email: `ada.${run}@example.com` },
          timestamp: at(1),
        },
        {
          type: 'identify',
          messageId: `${run}-3`,
          anonymousId: `p1-${run}`,
          context: { traits: { phone: '+44 20 7946 0958' } },
          traits: { name: run },
          timestamp: at(2),
        },
        {
          type: 'identify',
          messageId: `${run}-4`,
          anonymousId: `p2-${run}`,
          traits: { phone: '+442079460958', name: run },
          timestamp: at(3),
        },
      ]);
      const p = await settled(c, run, 4, 2);
      expect(p.get('1')).toBe(p.get('2'));
      expect(p.get('3')).toBe(p.get('4'));
      const stored = await sql<{ id_value: string }>(
        c,
        "SELECT id_value FROM identities FINAL WHERE id_type IN ('email', 'phone') AND one_id IN {ids:Array(String)}",
        { ids: [...new Set(p.values())] },
      );
      expect(stored.length).toBeGreaterThanOrEqual(2);
      for (const r of stored) expect(r.id_value).toMatch(/^[0-9a-f]{64}$/);
    });
    it('a split through the API moves the identifier and its events; stampers follow, and the same link does not re-merge', async () => {
      const run = uid();
      const U = `u-${run}`;
      const A1 = `laptop-${run}`;
      const A2 = `shared-${run}`;
      await send(c, [
        { type: 'identify', messageId: `${run}-1`, anonymousId: A1, userId: U, timestamp: at(0) },
        { type: 'track', messageId: `${run}-2`, anonymousId: A1, event: 'A', timestamp: at(1) },
        { type: 'track', messageId: `${run}-3`, anonymousId: A2, event: 'B', timestamp: at(2) },
      ]);
      await persons(c, run, 3);
      await send(c, [
        { type: 'identify', messageId: `${run}-4`, anonymousId: A2, userId: U, timestamp: at(3) },
        { type: 'track', messageId: `${run}-5`, anonymousId: A2, event: 'C', timestamp: at(4) },
      ]);
      const person = (await settled(c, run, 5, 1)).get('1') ?? '';
      const split = await api<{ from: string; oneId: string; eventsMoved: number }>(
        c,
        'POST',
        `/v1/persons/${person}/split`,
        { identifiers: [{ type: 'anonymous_id', value: A2 }] },
      );
      expect(split.status, split.text).toBe(200);
      // The two events with only A2; the login that carried U and A2 stays with U.
      expect(split.json).toMatchObject({ from: person, eventsMoved: 2 });
      const moved = split.json.oneId;
      expect(moved).not.toBe(person);
      await waitFor(
        async () =>
          expect(Object.fromEntries(await persons(c, run, 5))).toEqual({
            '1': person,
            '2': person,
            '3': moved,
            '4': person,
            '5': moved,
          }),
        { timeoutMs: 20_000 },
      );
      // Every stamper now stamps A2's events with the new person.
      await probe(c, run, A2, (p) => p === moved);
      // The same link again is refused, and nothing re-merges.
      await send(c, [
        { type: 'identify', messageId: `${run}-6`, anonymousId: A2, userId: U, timestamp: at(5) },
      ]);
      await waitFor(
        async () =>
          expect(
            await sql(c, 'SELECT reason FROM identity_audit WHERE request_id = {m:String}', {
              m: `${run}-6`,
            }),
          ).toContainEqual({ reason: 'split_block' }),
        { timeoutMs: 20_000 },
      );
      expect((await persons(c, run, 6)).get('3')).toBe(moved);
      await probe(c, run, A2, (p) => p === moved);
    }, 240_000);

    it('a GDPR erase through the API leaves none of the person; the same anonymousId later is a new person', async () => {
      const run = uid();
      const G = `g-${run}`;
      const U = `gu-${run}`;
      await send(c, [
        { type: 'track', messageId: `${run}-1`, anonymousId: G, event: 'E', timestamp: at(0) },
        {
          type: 'identify',
          messageId: `${run}-2`,
          anonymousId: G,
          userId: U,
          traits: { email: `g-${run}@example.com` },
          timestamp: at(1),
        },
      ]);
      const person = (await settled(c, run, 2, 1)).get('1') ?? '';
      // Stampers have the person cached: an event of G is stamped with it.
      expect(await probe(c, run, G, (p) => p === person)).toBe(person);
      const del = await api<{ deleted: string; retiredIds: string[]; eventsDeleted: number }>(
        c,
        'DELETE',
        `/v1/persons/${person}`,
      );
      expect(del.status, del.text).toBe(200);
      expect(del.json.deleted).toBe(person);
      // The run's two events and the probe(s) before the erase.
      expect(del.json.eventsDeleted).toBeGreaterThanOrEqual(3);
      const retired = del.json.retiredIds;
      expect(retired).toContain(person);
      const left = async (query: string): Promise<unknown[]> =>
        sql(c, query, { ids: retired, values: [G, U], p: `%${run}%` });
      expect(await left('SELECT 1 FROM events WHERE message_id LIKE {p:String}')).toEqual([]);
      expect(await left('SELECT 1 FROM events WHERE one_id IN {ids:Array(String)}')).toEqual([]);
      expect(
        await left('SELECT 1 FROM identities WHERE id_value IN {values:Array(String)}'),
      ).toEqual([]);
      expect(await left('SELECT 1 FROM identities WHERE one_id IN {ids:Array(String)}')).toEqual(
        [],
      );
      expect((await api(c, 'GET', `/v1/persons/${person}`)).status).toBe(404);
      // The stampers forgot the erased person: G's next event is someone new.
      const again = await probe(c, run, G, (p) => !retired.includes(p));
      expect(retired).not.toContain(again);
    }, 240_000);

    it('replaying the links topic from the start rebuilds the graph it holds, as persisted', async () => {
      // A graph of its own to rebuild: a login on two devices (a merge), and
      // a second login on one of them (a refusal).
      const run = uid();
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-1`,
          anonymousId: `phone-${run}`,
          timestamp: at(0),
        },
        {
          type: 'identify',
          messageId: `${run}-2`,
          anonymousId: `laptop-${run}`,
          timestamp: at(1),
        },
      ]);
      await settled(c, run, 2, 2);
      await send(c, [
        {
          type: 'identify',
          messageId: `${run}-3`,
          anonymousId: `phone-${run}`,
          userId: `u-${run}`,
          timestamp: at(2),
        },
        {
          type: 'identify',
          messageId: `${run}-4`,
          anonymousId: `laptop-${run}`,
          userId: `u-${run}`,
          timestamp: at(3),
        },
        {
          type: 'identify',
          messageId: `${run}-5`,
          anonymousId: `laptop-${run}`,
          userId: `other-${run}`,
          timestamp: at(4),
        },
      ]);
      await settled(c, run, 5, 2);
      const replay = createResolver({
        bus: c.bus,
        warehouse: c.warehouse,
        topics: topicNames(topicPrefix),
        logger: createLogger({ service: 'replay', level: 'silent' }),
        rules: createIdentityRules(),
        metrics: createIdentityMetrics(),
        group: `replay-${uid()}`,
        replayOnly: true,
      });
      // Who holds which identifier of this test, and which ids were merged
      // into which: the graph itself (first/last seen are refreshed in memory
      // only). Only this test's part: the topic is not a full history (an
      // erase purges what was read of it, retention ends the rest).
      const shape = (g: GraphSnapshot): unknown => {
        const mine = g.identities.filter((r) => r.id_value.includes(run));
        const ids = new Set(mine.map((r) => r.one_id));
        return {
          identities: mine.map((r) => `${r.one_id} ${r.id_type}:${r.id_value}`).sort(),
          overrides: g.overrides
            .filter((r) => ids.has(r.into_one_id) || ids.has(r.from_one_id))
            .map((r) => `${r.from_one_id}>${r.into_one_id}`)
            .sort(),
          blocks: g.blocks
            .filter((r) => ids.has(r.one_id) || ids.has(r.other_one_id))
            .map((r) => `${r.one_id}|${r.other_one_id}`)
            .sort(),
        };
      };
      await replay.start();
      try {
        await waitFor(
          async () => {
            const persisted = await loadSnapshot(c.warehouse);
            // This test's people are in the persisted graph: the two devices
            // and the first login are one person, into which a provisional
            // id was merged; the second login is another.
            const oneIdOf = (value: string): string | undefined =>
              persisted.identities.find((r) => r.id_value === value)?.one_id;
            const person = oneIdOf(`u-${run}`);
            expect(person).toBeDefined();
            expect(oneIdOf(`phone-${run}`)).toBe(person);
            expect(oneIdOf(`laptop-${run}`)).toBe(person);
            expect(oneIdOf(`other-${run}`)).toBeDefined();
            expect(oneIdOf(`other-${run}`)).not.toBe(person);
            expect(persisted.overrides.some((r) => r.into_one_id === person)).toBe(true);
            expect(shape(replay.graph().export())).toEqual(shape(persisted));
          },
          { timeoutMs: 30_000 },
        );
      } finally {
        await replay.stop();
      }
    });
    // Last: a test that crashes a process leaves the others unaffected.
    more?.(c);
  });
}
