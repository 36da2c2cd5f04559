/**
 * Incremental audience runs on real parts (chDB, the embedded bus): after a
 * full run, a run of the same definition re-evaluates only the people
 * something happened to, and its member set is the one a full evaluation
 * gives at that time: people whose events a sliding window's edge passed
 * over (and who sent nothing new) leave or enter, new events, a changed tag
 * and a merge count, and a person nothing happened to is not re-evaluated.
 * Load, tag and audit times are set by the test, so the people the world
 * starts with are not "new" to the second run.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@cdp/core';
import { compileAudience, DAY_MS, type Condition } from '@cdp/audiences';
import { TABLES } from '@cdp/warehouse';
import { useRealParts } from './test-parts.js';
import { createAudienceService, type AudienceService } from './service.js';

const logger = createLogger({ service: 'audiences-incremental-test', level: 'silent' });
const parts = useRealParts('cdp-audience-incremental', logger);

const iso = (ms: number): string => new Date(ms).toISOString();

interface Ev {
  readonly person: string;
  readonly event: string;
  readonly ms: number;
  /** When the loader wrote it (the test's clock). */
  readonly loaded: number;
}

const events = (evs: readonly Ev[]): Promise<void> =>
  parts.wh.insert(
    TABLES.events,
    evs.map((e) => ({
      message_id: randomUUID(),
      source_id: 'test',
      type: 'track',
      event: e.event,
      one_id: e.person,
      anonymous_id: `anon-${e.person}`,
      timestamp: iso(e.ms),
      received_at: iso(e.ms),
      properties: '{}',
      traits: '{}',
      context: '{}',
      loaded_at: iso(e.loaded),
    })),
  );

const tag = (person: string, value: string, at: number): Promise<void> =>
  parts.wh.insert(TABLES.personTags, [
    { person_id: person, tag: 'churn_risk', value, computed_at: iso(at), version: at },
  ]);

const service = (clock: { t: number }, fullEveryMs?: number): AudienceService =>
  createAudienceService({
    warehouse: parts.wh,
    bus: parts.bus,
    changesTopic: 'cdp.audiences.changes',
    logger,
    now: () => clock.t,
    ...(fullEveryMs !== undefined ? { fullEveryMs } : {}),
  });

/** The members a full evaluation gives at `at`. */
const fullSet = async (c: Condition, at: number): Promise<string[]> => {
  const q = compileAudience(c, at, TABLES);
  const rows = await parts.wh.query<{ person_id: string }>(q.sql, q.params);
  return rows.map((r) => r.person_id).sort();
};

const snapshot = async (audience: string, version: number): Promise<string[]> =>
  (
    await parts.wh.query<{ person_id: string }>(
      `SELECT person_id FROM ${TABLES.audienceSnapshots}
       WHERE audience = {a:String} AND version = {v:UInt64} ORDER BY person_id`,
      { a: audience, v: version },
    )
  ).map((r) => r.person_id);

const changes = async (audience: string, version: number): Promise<Record<string, string[]>> => {
  const rows = await parts.wh.query<{ person_id: string; change: string }>(
    `SELECT DISTINCT person_id, change FROM ${TABLES.audienceMembers}
     WHERE audience = {a:String} AND version = {v:UInt64} ORDER BY person_id`,
    { a: audience, v: version },
  );
  const out: Record<string, string[]> = { entered: [], exited: [] };
  for (const r of rows) out[r.change]?.push(r.person_id);
  return out;
};

describe('incremental audience runs', () => {
  it('re-evaluate only the people something happened to, and give the full set', async () => {
    const run = randomUUID().slice(0, 8);
    const id = (k: string): string => `${k}-${run}`;
    const ev = (k: string): string => `${k}-${run}`;
    const [View, Order, Signup, Cart] = [ev('View'), ev('Order'), ev('Signup'), ev('Cart')];
    const T0 = Date.UTC(2026, 10, 20, 12);
    const t1 = T0 + 60_000;
    const old = T0 - 2 * 3_600_000; // when the world was loaded
    const audiences: Record<string, Condition> = {
      views7: { performed: { event: View, within: { days: 7 }, count: { op: 'gte', value: 2 } } },
      buyer_high_churn: {
        and: [
          { tag: { name: 'churn_risk', op: 'eq', value: 'high' } },
          { performed: { event: Order, within: { days: 30 } } },
        ],
      },
      lapsed: { stopped: { event: Order, before: { days: 30 }, not_within: { days: 7 } } },
      new_signup: { first_time: { event: Signup, within: { days: 3 } } },
      viewed_not_bought: {
        and: [
          { performed: { event: View, within: { days: 7 } } },
          { not: { performed: { event: Order, within: { days: 1 } } } },
        ],
      },
      cart_then_order: {
        sequence: { steps: [{ event: Cart }, { event: Order }], within: { hours: 1 } },
      },
    };
    const world: Ev[] = [
      // a1: two views; the first leaves the 7-day window between the runs.
      { person: id('a1'), event: View, ms: T0 - 7 * DAY_MS + 30_000, loaded: old },
      { person: id('a1'), event: View, ms: T0 - DAY_MS, loaded: old },
      // a2: one view now, a second one comes before the second run.
      { person: id('a2'), event: View, ms: T0 - 2 * DAY_MS, loaded: old },
      // b1 (tag changes) and b2 (the order leaves the 30-day window).
      { person: id('b1'), event: Order, ms: T0 - 5 * DAY_MS, loaded: old },
      { person: id('b2'), event: Order, ms: T0 - 30 * DAY_MS + 30_000, loaded: old },
      // c1: the order moves out of the last 7 days: lapsed.
      { person: id('c1'), event: Order, ms: T0 - 7 * DAY_MS + 30_000, loaded: old },
      // d1: signed up 3 days ago, about to be no longer new.
      { person: id('d1'), event: Signup, ms: T0 - 3 * DAY_MS + 30_000, loaded: old },
      // e1: viewed, and ordered a day ago: the order leaves the 1-day window.
      { person: id('e1'), event: View, ms: T0 - 2 * DAY_MS, loaded: old },
      { person: id('e1'), event: Order, ms: T0 - DAY_MS + 30_000, loaded: old },
      // m1 (two views) is merged into m2 between the runs.
      { person: id('m1'), event: View, ms: T0 - DAY_MS, loaded: old },
      { person: id('m1'), event: View, ms: T0 - 2 * DAY_MS, loaded: old },
      { person: id('m2'), event: Signup, ms: T0 - 20 * DAY_MS, loaded: old },
      // f1: cart then order half an hour later; f2: a cart, its order comes later.
      { person: id('f1'), event: Cart, ms: T0 - 7_200_000, loaded: old },
      { person: id('f1'), event: Order, ms: T0 - 5_400_000, loaded: old },
      { person: id('f2'), event: Cart, ms: T0 - 600_000, loaded: old },
      // s1: a steady member of views7 and viewed_not_bought; nothing happens to them.
      { person: id('s1'), event: View, ms: T0 - DAY_MS - 3_600_000, loaded: old },
      { person: id('s1'), event: View, ms: T0 - 2 * DAY_MS, loaded: old },
    ];
    await events(world);
    await tag(id('b1'), 'high', old);
    await tag(id('b2'), 'high', old);

    const clock = { t: T0 };
    const s = service(clock);
    const names = Object.keys(audiences).map((k) => `${k}-${run}`);
    for (const [k, c] of Object.entries(audiences))
      await s.create({ name: `${k}-${run}`, definition: { conditions: c }, refresh: 'manual' });
    for (const name of names) expect(await s.refresh(name)).toMatchObject({ mode: 'full' });

    // Between the runs: a2 views again, b1's churn risk drops, f2 orders,
    // and m1 is merged into m2 (the override and its audit row).
    await events([
      { person: id('a2'), event: View, ms: t1 - 10_000, loaded: t1 - 5_000 },
      { person: id('f2'), event: Order, ms: t1 - 20_000, loaded: t1 - 5_000 },
    ]);
    await tag(id('b1'), 'low', t1 - 20_000);
    await parts.wh.insert(TABLES.personOverrides, [
      { from_one_id: id('m1'), into_one_id: id('m2'), reason: 'test', version: t1 },
    ]);
    await parts.wh.insert(TABLES.identityAudit, [
      {
        at: iso(t1 - 30_000),
        kind: 'merge',
        one_id: id('m2'),
        other_id: id('m1'),
        identifier_type: 'user_id',
        identifier_hash: '',
        reason: 'test',
        request_id: run,
      },
    ]);
    clock.t = t1;
    const second: Record<string, { entered: string[]; exited: string[] }> = {};
    for (const [k, c] of Object.entries(audiences)) {
      const name = `${k}-${run}`;
      const r = await s.refresh(name);
      expect(r, name).toMatchObject({ mode: 'incremental', version: 2, status: 'done' });
      expect(await snapshot(name, 2), name).toEqual(await fullSet(c, t1));
      const ch = await changes(name, 2);
      second[k] = { entered: ch['entered'] ?? [], exited: ch['exited'] ?? [] };
      // s1 was not re-evaluated: only the people something happened to were.
      const candidates = await parts.wh.query<{ person_id: string }>(
        `SELECT person_id FROM ${TABLES.audienceCandidates} WHERE audience = {a:String} AND version = 2`,
        { a: name },
      );
      expect(candidates.length, name).toBe(r.candidates);
      expect(
        candidates.map((x) => x.person_id),
        name,
      ).not.toContain(id('s1'));
    }
    // What moved, and why: each of these is a person the second run had to find.
    expect(second).toEqual({
      views7: { entered: [id('a2'), id('m2')], exited: [id('a1'), id('m1')] },
      buyer_high_churn: { entered: [], exited: [id('b1'), id('b2')] },
      lapsed: { entered: [id('c1')], exited: [] },
      new_signup: { entered: [], exited: [id('d1')] },
      viewed_not_bought: { entered: [id('e1'), id('m2')], exited: [id('m1')] },
      cart_then_order: { entered: [id('f2')], exited: [] },
    });
    // The sets before the last good one went in the sweep after each run.
    for (const name of names)
      expect(
        await parts.wh.query(
          `SELECT DISTINCT version FROM ${TABLES.audienceSnapshots} WHERE audience = {a:String} AND version != 2`,
          { a: name },
        ),
        name,
      ).toEqual([]);
  });

  it('runs in full when the definition changed or the last full run is older than fullEveryMs', async () => {
    const run = randomUUID().slice(0, 8);
    const View = `View-${run}`;
    const T0 = Date.UTC(2026, 10, 21, 12);
    await events([{ person: `p-${run}`, event: View, ms: T0 - DAY_MS, loaded: T0 - 3_600_000 }]);
    const clock = { t: T0 };
    const s = service(clock, 600_000);
    const name = `modes-${run}`;
    const def = (days: number): unknown => ({
      conditions: { performed: { event: View, within: { days } } },
    });
    await s.create({ name, definition: def(7), refresh: 'manual' });
    const modes: string[] = [];
    const next = async (ms: number): Promise<void> => {
      clock.t += ms;
      modes.push((await s.refresh(name)).mode);
    };
    await next(0); // the first run
    await next(60_000); // same definition, a full run 1 min ago
    await s.replace(name, { name, definition: def(8), refresh: 'manual' });
    await next(60_000); // the definition changed
    await next(60_000);
    await next(600_000); // the last full run is 10 min old
    expect(modes).toEqual(['full', 'incremental', 'full', 'incremental', 'full']);
    expect((await s.runs(name, 1))[0]).toMatchObject({ mode: 'full', candidates: null, size: 1 });
  });
});
