/**
 * OneID end to end, on the all-in-one platform over each bus adapter: events
 * go in through the HTTP API and every check reads ClickHouse through the
 * SQL endpoint and the `events_by_person` view, as an analyst would.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, topics as topicNames } from '@cdp/core';
import { createIdentityRules, type GraphSnapshot } from '@cdp/identity';
import { createIdentityMetrics, createResolver, loadSnapshot } from '@cdp/identity-service';
import { waitFor } from '@cdp/testkit';
import { sql, usePlatform, type Ctx, type ScenarioHarness } from './e2e-scenarios.js';

type Call = Record<string, unknown> & { type: string };

async function send(c: Ctx, batch: Call[]): Promise<void> {
  const res = await fetch(`${c.url}/v1/batch`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ batch }),
  });
  const body = (await res.json()) as { success: boolean; rejected?: unknown[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(body.rejected ?? []).toEqual([]);
}

/** Waits until `n` events of the run are loaded, then returns person_id per message id. */
async function persons(c: Ctx, run: string, n: number): Promise<Map<string, string>> {
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
  c: Ctx,
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

const uid = (): string => Math.random().toString(36).slice(2, 10);
const at = (minute: number): string => new Date(Date.UTC(2026, 10, 1, 10, minute)).toISOString();

/**
 * Registers the scenarios in a suite of their own on a platform from
 * `start`; `more` registers further tests in that suite, on the same
 * platform.
 */
export function runIdentityScenarios(
  name: string,
  start: () => Promise<ScenarioHarness>,
  topicPrefix = 'cdp.',
  more?: (c: Ctx) => void,
): void {
  describe(`OneID end to end (${name})`, () => {
    const c = usePlatform(start);
    more?.(c);

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
    it('replaying the links topic from the start rebuilds the graph that was persisted', async () => {
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
        bus: c.platform.bus,
        warehouse: c.platform.warehouse,
        topics: topicNames(topicPrefix),
        logger: createLogger({ service: 'replay', level: 'silent' }),
        rules: createIdentityRules(),
        metrics: createIdentityMetrics(),
        group: `replay-${uid()}`,
        replayOnly: true,
      });
      // Who holds which identifier, and which ids were merged into which:
      // the graph itself (first/last seen are refreshed in memory only).
      const shape = (g: GraphSnapshot): unknown => ({
        identities: g.identities.map((r) => `${r.one_id} ${r.id_type}:${r.id_value}`).sort(),
        overrides: g.overrides.map((r) => `${r.from_one_id}>${r.into_one_id}`).sort(),
        blocks: g.blocks.map((r) => `${r.one_id}|${r.other_one_id}`).sort(),
        tombstones: g.tombstones.map((r) => r.one_id).sort(),
      });
      await replay.start();
      try {
        await waitFor(
          async () => {
            const persisted = await loadSnapshot(c.platform.warehouse);
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
  });
}
