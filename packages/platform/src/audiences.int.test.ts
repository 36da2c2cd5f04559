/**
 * Audiences end to end on the all-in-one platform: events go in through
 * ingest and OneID; an audience is defined, previewed and run through the
 * API; members, runs, the changes topic and the `Audience Entered` event
 * come back as a user (or the exporter) reads them.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { topics as topicNames } from '@cdp/core';
import type { BusMessage } from '@cdp/bus';
import { waitFor } from '@cdp/testkit';
import {
  adminApi,
  sendBatch,
  sql,
  startTestPlatform,
  usePlatform,
  waitForRunEvents,
} from './e2e-scenarios.js';

// Scheduled runs are far apart: the test runs audiences on demand.
const c = usePlatform(() => startTestPlatform({ CDP_TAGS_INTERVAL: '3600' }));

const api = <T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): ReturnType<typeof adminApi<T>> => adminApi<T>(c, method, path, body);

interface Run {
  version: number;
  status: string;
  size: number;
  entered: number;
  exited: number;
}

const personOf = async (userId: string): Promise<string> => {
  const r = await api<{ oneId: string }>('GET', `/v1/persons/lookup?type=user_id&value=${userId}`);
  expect(r.status).toBe(200);
  return r.json.oneId;
};

describe('audiences end to end (all-in-one)', () => {
  it('defines, previews and runs an audience; members, diffs, runs and events follow', async () => {
    const run = randomUUID().slice(0, 8);
    const [ada, bob, cy] = ['ada', 'bob', 'cy'].map((n) => `${n}-${run}`) as [
      string,
      string,
      string,
    ];
    const now = new Date().toISOString();
    const order = (userId: string, category: string, n: number): Record<string, unknown> => ({
      type: 'track',
      messageId: `${run}-${userId}-${n}`,
      userId,
      event: 'Order Completed',
      properties: { category, revenue: 80, run },
      timestamp: now,
    });
    await sendBatch(c, [
      { type: 'identify', userId: ada, traits: { email: `${ada}@example.com` }, timestamp: now },
      order(ada, 'shoes', 1),
      order(bob, 'bags', 1),
      { type: 'track', userId: cy, event: 'Product Viewed', properties: { run }, timestamp: now },
    ]);
    await waitForRunEvents(c, run, 3);
    const name = `shoes-${run}`;
    const definition = {
      conditions: {
        and: [
          {
            performed: {
              event: 'Order Completed',
              where: [
                { property: 'category', op: 'eq', value: 'shoes' },
                { property: 'run', op: 'eq', value: run },
              ],
              within: { days: 30 },
            },
          },
        ],
      },
    };

    // A definition that cannot compile: a 400 naming the path in the tree.
    const bad = await api('POST', '/v1/audiences', {
      name,
      definition: {
        conditions: {
          and: [definition.conditions.and[0], { performed: { event: 'X', within: { days: 0 } } }],
        },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      code: 'CDP_ERR_AUDIENCE_INVALID',
      field: 'conditions.and[1].performed.within.days',
    });

    // Preview, not saved: the size at once, a sample with identifiers.
    const preview = await api<{
      size: number;
      sample: { personId: string; identifiers: { type: string }[] }[];
      byChannel: Record<string, number>;
      byRfmGroup: Record<string, number>;
    }>('POST', '/v1/audiences/preview', { definition });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.json.size).toBe(1);
    const adaId = await personOf(ada);
    expect(preview.json.sample.map((s) => s.personId)).toEqual([adaId]);
    expect(preview.json.sample[0]?.identifiers.map((i) => i.type)).toContain('email');
    // No tag run yet: the member has neither tag.
    expect(preview.json.byChannel).toEqual({ '(none)': 1 });
    expect(preview.json.byRfmGroup).toEqual({ '(none)': 1 });

    const created = await api<{ audience: { name: string; size: number; computedAt: unknown } }>(
      'POST',
      '/v1/audiences',
      { name, definition, refresh: 'manual' },
    );
    expect(created.status, created.text).toBe(201);
    expect(created.json.audience).toMatchObject({ name, size: 0, computedAt: null });
    expect((await api('POST', '/v1/audiences', { name, definition })).status).toBe(409);

    // The changes topic, read as the exporter would.
    const changes: BusMessage[] = [];
    const sub = await c.platform.bus.subscribe({
      topic: topicNames().audiencesChanges,
      group: `test-${run}`,
      maxWaitMs: 20,
      handleBatch: async (b) => {
        changes.push(...b.messages.filter((m) => m.value.toString().includes(name)));
      },
    });
    try {
      const first = await api<{ run: Run }>('POST', `/v1/audiences/${name}/refresh`);
      expect(first.status, first.text).toBe(200);
      expect(first.json.run).toMatchObject({
        version: 1,
        status: 'done',
        size: 1,
        entered: 1,
        exited: 0,
      });

      // Bob buys shoes too: he enters; Ada stays (no second "entered").
      await sendBatch(c, [order(bob, 'shoes', 2)]);
      await waitFor(
        async () =>
          expect(
            await sql(c, `SELECT 1 FROM events WHERE message_id = {m:String}`, {
              m: `${run}-${bob}-2`,
            }),
          ).toHaveLength(1),
        { timeoutMs: 20_000 },
      );
      const second = await api<{ run: Run }>('POST', `/v1/audiences/${name}/refresh`);
      expect(second.json.run).toMatchObject({
        version: 2,
        status: 'done',
        size: 2,
        entered: 1,
        exited: 0,
      });
      const bobId = await personOf(bob);

      const page1 = await api<{ members: { personId: string }[]; nextCursor: string | null }>(
        'GET',
        `/v1/audiences/${name}/members?limit=1`,
      );
      expect(page1.status).toBe(200);
      expect(page1.json.nextCursor).not.toBeNull();
      const page2 = await api<{ members: { personId: string }[]; nextCursor: string | null }>(
        'GET',
        `/v1/audiences/${name}/members?limit=1&cursor=${page1.json.nextCursor}`,
      );
      const all = [...page1.json.members, ...page2.json.members].map((m) => m.personId).sort();
      expect(all).toEqual([adaId, bobId].sort());
      const csv = await api('GET', `/v1/audiences/${name}/members?format=csv`);
      expect(csv.type).toMatch(/^text\/csv/);
      expect(
        csv.text
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => l.split(',')[0])
          .sort(),
      ).toEqual([adaId, bobId].sort());

      // The definition changes: only 'bags' buyers now; both exit, nobody enters.
      const replaced = await api('PUT', `/v1/audiences/${name}`, {
        definition: {
          conditions: {
            performed: {
              event: 'Order Completed',
              where: [
                { property: 'category', op: 'eq', value: 'hats' },
                { property: 'run', op: 'eq', value: run },
              ],
            },
          },
        },
        refresh: 'manual',
      });
      expect(replaced.status, replaced.text).toBe(200);
      const third = await api<{ run: Run }>('POST', `/v1/audiences/${name}/refresh`);
      expect(third.json.run).toMatchObject({ version: 3, size: 0, entered: 0, exited: 2 });

      const runs = await api<{ runs: Run[] }>('GET', `/v1/audiences/${name}/runs`);
      expect(runs.json.runs.map((r) => [r.version, r.status, r.entered, r.exited])).toEqual([
        [3, 'done', 0, 2],
        [2, 'done', 1, 0],
        [1, 'done', 1, 0],
      ]);
      const got = await api<{ audience: { size: number; computedAt: string } }>(
        'GET',
        `/v1/audiences/${name}`,
      );
      expect(got.json.audience.size).toBe(0);
      expect(Date.parse(got.json.audience.computedAt)).toBeGreaterThan(0);

      // Every change once on the topic (Ada entered once, though in two versions).
      await waitFor(() => expect(changes.length).toBeGreaterThanOrEqual(4));
      const seen = changes.map((m) => {
        const v = JSON.parse(m.value.toString()) as {
          version: number;
          personId: string;
          change: string;
        };
        return `${v.version} ${v.change} ${v.personId}`;
      });
      expect(seen.sort()).toEqual(
        [
          `1 entered ${adaId}`,
          `2 entered ${bobId}`,
          `3 exited ${adaId}`,
          `3 exited ${bobId}`,
        ].sort(),
      );

      // Ada's timeline has Audience Entered, through ingest and OneID.
      await waitFor(
        async () => {
          const rows = await sql<{ event: string; person_id: string }>(
            c,
            `SELECT event, person_id FROM events_by_person
             WHERE event IN ('Audience Entered', 'Audience Exited') AND JSONExtractString(properties, 'audience') = {a:String}
             ORDER BY event, person_id`,
            { a: name },
          );
          expect(rows).toEqual(
            [
              { event: 'Audience Entered', person_id: adaId },
              { event: 'Audience Entered', person_id: bobId },
              { event: 'Audience Exited', person_id: adaId },
              { event: 'Audience Exited', person_id: bobId },
            ].sort((x, y) => (x.event + x.person_id).localeCompare(y.event + y.person_id)),
          );
        },
        { timeoutMs: 20_000 },
      );
      // A GDPR delete takes Bob out of the audience's history too.
      const erased = await api('DELETE', `/v1/persons/${bobId}`);
      expect(erased.status, erased.text).toBe(200);
      for (const table of ['audience_members', 'audience_snapshots'])
        expect(
          await sql(c, `SELECT 1 FROM ${table} WHERE person_id = {p:String}`, { p: bobId }),
          table,
        ).toEqual([]);
      expect(
        await sql(c, `SELECT 1 FROM audience_members WHERE person_id = {p:String}`, { p: adaId }),
      ).not.toEqual([]);
    } finally {
      await sub.close();
    }

    expect((await api('DELETE', `/v1/audiences/${name}`)).status).toBe(204);
    expect((await api('GET', `/v1/audiences/${name}`)).status).toBe(404);
  });

  it('refuses an audience that names itself through another, and one that does not exist', async () => {
    const run = randomUUID().slice(0, 8);
    const a = `a-${run}`;
    const b = `b-${run}`;
    const tag = { tag: { name: 'rfm_group', op: 'eq', value: 'Champions' } };
    expect(
      (await api('POST', '/v1/audiences', { name: a, definition: { conditions: tag } })).status,
    ).toBe(201);
    expect(
      (
        await api('POST', '/v1/audiences', {
          name: b,
          definition: { conditions: { and: [{ in_audience: a }, tag] } },
        })
      ).status,
    ).toBe(201);
    const cycle = await api('PUT', `/v1/audiences/${a}`, {
      definition: { conditions: { in_audience: b } },
    });
    expect(cycle.status).toBe(400);
    expect(cycle.json).toMatchObject({
      code: 'CDP_ERR_AUDIENCE_INVALID',
      field: 'conditions.in_audience.and[0].in_audience',
    });
    const missing = await api('POST', '/v1/audiences', {
      name: `c-${run}`,
      definition: { conditions: { in_audience: 'nope' } },
    });
    expect(missing.json).toMatchObject({ field: 'conditions.in_audience' });
    // Still used by b: a cannot go.
    expect((await api('DELETE', `/v1/audiences/${a}`)).status).toBe(400);
  });
});
