/**
 * Lookalike audiences on real parts (chDB, the embedded bus): a seed drawn
 * from a planted group of people who share tags and behaviour, expanded
 * through the audience service; the new audience runs like any other, a
 * rebuild is deterministic and a smaller one makes the dropped people leave.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '@cdp/core';
import { refusal } from '@cdp/testkit';
import { TABLES } from '@cdp/warehouse';
import { useRealParts } from './test-parts.js';
import { createAudienceService, type AudienceService } from './service.js';

const logger = createLogger({ service: 'lookalike-test', level: 'silent' });
const parts = useRealParts('cdp-lookalike', logger);

const PEOPLE = 3000;
const NOW = Date.parse('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
/** A deterministic hash of (i, salt) in [0, 1). */
const h = (i: number, salt: number): number =>
  ((Math.imul(i + 1, 2654435761) ^ Math.imul(salt + 7, 40503)) >>> 0) / 2 ** 32;
const pick = <T>(xs: readonly T[], u: number): T => xs[Math.floor(u * xs.length)] as T;

const CHANNELS = ['Direct', 'Organic Search', 'Paid Search', 'Email', 'Referral', 'Display'];
const AGENTS = {
  mobile: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148',
  desktop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0',
  tablet: 'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)',
};
const CATS = ['shoes', 'shirts', 'bags', 'hats', 'watches', 'toys'];
const id = (i: number): string => `p${String(i).padStart(5, '0')}`;
/** One person in 20 is in the planted group. */
const planted = (i: number): boolean => i % 20 === 3;

/**
 * The world: every person has events and tags; the planted group mostly
 * buys watches through Email on phones, with high spend and a Champions
 * RFM group (each trait held with probability 0.8); the rest at random.
 * Seed: the planted people tagged `seed_flag` (half of them); excluded: an
 * audience of 17 other planted people (tag `opted_out`).
 */
async function seedWorld(): Promise<void> {
  const events: Record<string, unknown>[] = [];
  const tags: Record<string, unknown>[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const g = planted(i);
    const follows = (salt: number): boolean => g && h(i, salt) < 0.8;
    const channel = follows(1) ? 'Email' : pick(CHANNELS, h(i, 2));
    const device = follows(3) ? 'mobile' : pick(['mobile', 'desktop', 'tablet'] as const, h(i, 4));
    const n = 1 + Math.floor(h(i, 5) * 4);
    const last = NOW - Math.floor((follows(6) ? 0.1 : h(i, 7)) * 120 * DAY) - DAY;
    for (let k = 0; k < n; k++) {
      const ts = new Date(last - k * 3 * DAY).toISOString();
      events.push({
        message_id: `m${i}-${k}`,
        source_id: 'test',
        type: 'track',
        event: 'Product Viewed',
        one_id: id(i),
        user_id: id(i),
        timestamp: ts,
        received_at: ts,
        channel,
        user_agent: AGENTS[device],
        properties: '{}',
      });
    }
    const tag = (t: string, value: string): void =>
      void tags.push({
        person_id: id(i),
        tag: t,
        value,
        computed_at: new Date(NOW).toISOString(),
        version: 1,
      });
    tag(
      'rfm_group',
      follows(8)
        ? 'Champions'
        : pick(['Lost', 'Hibernating', 'Promising', 'Champions', 'At Risk'], h(i, 9)),
    );
    tag('spending_power', follows(10) ? 'high' : pick(['low', 'medium', 'high'], h(i, 11)));
    tag('top_categories', JSON.stringify([follows(12) ? 'watches' : pick(CATS, h(i, 13))]));
    tag('monetary', String(Math.round((follows(14) ? 800 : 50) + h(i, 15) * 400)));
    tag('frequency', String(1 + Math.floor(h(i, 16) * 6)));
    if (g && i % 40 === 3) tag('seed_flag', 'yes');
    if (g && i % 40 === 23 && i < 700) tag('opted_out', 'yes');
  }
  await parts.wh.insert(TABLES.events, events);
  await parts.wh.insert(TABLES.personTags, tags);
}

const plantedCount = Array.from({ length: PEOPLE }, (_, i) => i).filter(planted).length;

async function ready(): Promise<AudienceService> {
  const svc = createAudienceService({
    warehouse: parts.wh,
    bus: parts.bus,
    changesTopic: 'cdp.audiences.changes',
    logger,
    now: () => NOW,
  });
  const [n] = await parts.wh.query<{ n: string }>(
    `SELECT toString(count()) AS n FROM ${TABLES.personTags}`,
  );
  if (n?.n === '0') {
    await seedWorld();
    await svc.create({
      name: 'vip',
      definition: { conditions: { tag: { name: 'seed_flag', op: 'eq', value: 'yes' } } },
      refresh: 'manual',
    });
    await svc.create({
      name: 'opted-out',
      definition: { conditions: { tag: { name: 'opted_out', op: 'exists' } } },
      refresh: 'manual',
    });
    await svc.refresh('vip');
    await svc.refresh('opted-out');
  }
  return svc;
}

const listOf = async (name: string): Promise<string[]> =>
  (
    await parts.wh.query<{ person_id: string }>(
      `SELECT person_id FROM ${TABLES.audienceLists} FINAL WHERE list = {l:String} ORDER BY person_id`,
      { l: name },
    )
  ).map((r) => r.person_id);

const membersOf = async (svc: AudienceService, name: string): Promise<string[]> =>
  (await svc.members(name, undefined, 10_000)).members.map((m) => m.personId).sort();

describe('lookalike audiences', () => {
  it('builds an audience of the people most like the seed, leaving out the seed and the excluded', async () => {
    const svc = await ready();
    const seed = await membersOf(svc, 'vip');
    const excluded = await membersOf(svc, 'opted-out');
    expect(seed.length).toBe(plantedCount / 2);
    expect(excluded.length).toBe(17);

    const out = await svc.lookalike('vip', {
      ratio: 0.05,
      exclude: ['opted-out'],
      name: 'vip-like',
    });
    const eligible = PEOPLE - seed.length - excluded.length;
    expect(out.lookalike.eligible).toBe(eligible);
    expect(out.lookalike.seedSize).toBe(seed.length);
    expect(out.lookalike.selected).toBe(Math.ceil(0.05 * eligible));
    expect(out.audience.definition.conditions).toEqual({ in_list: 'vip-like' });
    expect(out.audience.lookalike?.version).toBe(out.lookalike.version);
    expect(out.run.status).toBe('done');
    expect(out.run.entered).toBe(out.lookalike.selected);

    const members = await membersOf(svc, 'vip-like');
    expect(members).toEqual(await listOf('vip-like'));
    expect(members.length).toBe(out.lookalike.selected);
    const taken = new Set([...seed, ...excluded]);
    expect(members.filter((m) => taken.has(m))).toEqual([]);
    // The planted people left to find are 150 - 75 - 17 = 58 of 2,908 (2%):
    // a random pick of 146 would hold about 3 of them.
    const found = members.filter((m) => planted(Number(m.slice(1)))).length;
    expect(found).toBeGreaterThanOrEqual(45);
    expect(out.lookalike.model.converged).toBe(true);
    // Its members entered like any audience's, for destinations to follow.
    const [entered] = await parts.wh.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM ${TABLES.audienceMembers} WHERE audience = 'vip-like' AND change = 'entered'`,
    );
    expect(Number(entered?.n)).toBe(members.length);
  });

  it('rebuilds the same list from the same data, and a smaller one makes the dropped people leave', async () => {
    const svc = await ready();
    const a = await svc.lookalike('vip', { ratio: 0.04, name: 'vip-small' });
    const first = await listOf('vip-small');
    const b = await svc.lookalike('vip', { ratio: 0.04, name: 'vip-small' });
    expect(b.lookalike.version).toBeGreaterThan(a.lookalike.version);
    expect(await listOf('vip-small')).toEqual(first);
    expect([b.run.entered, b.run.exited]).toEqual([0, 0]);

    const c = await svc.lookalike('vip', { ratio: 0.02, name: 'vip-small' });
    const smaller = await listOf('vip-small');
    expect(smaller.length).toBe(c.lookalike.selected);
    // The best 2% are among the best 4%.
    expect(smaller.filter((p) => !first.includes(p))).toEqual([]);
    expect(c.run.exited).toBe(first.length - smaller.length);
    expect(await membersOf(svc, 'vip-small')).toEqual(smaller);
  });

  it('refuses bad requests naming the field', async () => {
    const svc = await ready();
    expect(await refusal(svc.lookalike('vip', {}))).toEqual(['CDP_ERR_AUDIENCE_INVALID', 'ratio']);
    expect(await refusal(svc.lookalike('vip', { ratio: 0 }))).toEqual([
      'CDP_ERR_AUDIENCE_INVALID',
      'ratio',
    ]);
    expect(await refusal(svc.lookalike('vip', { ratio: 0.9 }))).toEqual([
      'CDP_ERR_AUDIENCE_INVALID',
      'ratio',
    ]);
    expect(await refusal(svc.lookalike('vip', { ratio: '5%' }))).toEqual([
      'CDP_ERR_AUDIENCE_INVALID',
      'ratio',
    ]);
    expect(await refusal(svc.lookalike('vip', { ratio: 0.05, exclude: ['nope'] }))).toEqual([
      'CDP_ERR_AUDIENCE_INVALID',
      'exclude[0]',
    ]);
    expect(await refusal(svc.lookalike('vip', { ratio: 0.05, size: 3 }))).toEqual([
      'CDP_ERR_AUDIENCE_INVALID',
      'size',
    ]);
    expect(await refusal(svc.lookalike('vip', { ratio: 0.05, name: 'opted-out' }))).toEqual([
      'CDP_ERR_AUDIENCE_EXISTS',
      'name',
    ]);
    expect(await refusal(svc.lookalike('nobody', { ratio: 0.05 }))).toEqual([
      'CDP_ERR_AUDIENCE_NOT_FOUND',
      'name',
    ]);
    await svc.create({
      name: 'never-run',
      definition: { conditions: { tag: { name: 'seed_flag', op: 'exists' } } },
      refresh: 'manual',
    });
    expect(await refusal(svc.lookalike('never-run', { ratio: 0.05 }))).toEqual([
      'CDP_ERR_AUDIENCE_INVALID',
      'name',
    ]);
  });
});
