/**
 * Every built-in tag on real chDB, with hand-computed expected values: RFM
 * (ties, the window's edge), lifecycle and churn risk on their thresholds, a
 * member tier upgraded mid-period and downgraded at review, spending power,
 * price sensitivity, interests, preferred channel, and a OneID merge between
 * two runs. The kit's clock is NOW = 2025-06-01T00:00:00Z.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_DEFINITIONS, type TagDefinition } from '@cdp/tags';
import { TABLES } from '@cdp/warehouse';
import { createTagKit, DAY, daysAgo, NOW, type TagKit } from './test-kit.js';

const builtin = (name: string): TagDefinition => {
  const d = BUILTIN_DEFINITIONS.find((b) => b.name === name);
  if (!d) throw new Error(name);
  return d;
};

describe('built-in tags (chDB)', () => {
  let kit: TagKit;
  beforeAll(async () => {
    kit = await createTagKit();
  });
  afterAll(async () => {
    await kit?.close();
  });
  beforeEach(async () => {
    await kit.reset();
  });

  it('RFM: scores by rank among purchasers in the window, ties equal, groups from the table', async () => {
    await kit.define([builtin('rfm')]);
    await kit.insert([
      kit.purchase('A', daysAgo(10), 100),
      kit.purchase('A', daysAgo(40), 50),
      kit.purchase('B', daysAgo(10), 100),
      kit.purchase('B', daysAgo(20), 100),
      kit.purchase('B', daysAgo(30), 100),
      kit.purchase('C', daysAgo(100), 20),
      // Outside the 365-day window: no RFM tags.
      kit.purchase('D', daysAgo(366), 500),
      kit.purchase('E', daysAgo(5), 1000),
      { person: 'F', ago: daysAgo(1), type: 'page', name: 'Home' },
    ]);
    const report = await kit.runner.engine.run();
    expect(report.kind).toBe('full');
    const tags = await kit.tags();
    // n = 4 purchasers (A, B, C, E); score = 1 + floor(5w/4), w = strictly worse.
    expect(tags.get('A')).toEqual({
      recency_days: '10',
      frequency: '2',
      monetary: '150',
      r_score: '2', // worse recency: C
      f_score: '3', // fewer purchases: C, E
      m_score: '2', // less value: C
      rfm_group: 'Need Attention',
    });
    expect(tags.get('B')).toMatchObject({
      recency_days: '10',
      frequency: '3',
      monetary: '300',
      r_score: '2', // tied with A
      f_score: '4',
      m_score: '3',
      rfm_group: 'Loyal Customers',
    });
    expect(tags.get('C')).toMatchObject({
      r_score: '1',
      f_score: '1',
      m_score: '1',
      rfm_group: 'Hibernating',
    });
    expect(tags.get('E')).toMatchObject({
      r_score: '4',
      f_score: '1',
      m_score: '4',
      rfm_group: 'Others',
    });
    // No purchase in the window: no RFM tags (and so no row at all).
    expect(tags.get('D')).toBeUndefined();
    expect(tags.get('F')).toBeUndefined();
  });

  it('lifecycle: first match wins, on each threshold', async () => {
    await kit.define([builtin('lifecycle')]);
    await kit.insert([
      { person: 'prospect', ago: daysAgo(3), type: 'page', name: 'Home' },
      kit.purchase('new30', daysAgo(30), 10),
      kit.purchase('new31', daysAgo(31), 10),
      kit.purchase('react', daysAgo(300), 10),
      kit.purchase('react', daysAgo(20), 10),
      kit.purchase('gap180', daysAgo(200), 10),
      kit.purchase('gap180', daysAgo(20), 10),
      kit.purchase('active90', daysAgo(90), 10),
      kit.purchase('risk91', daysAgo(91), 10),
      kit.purchase('risk180', daysAgo(180), 10),
      kit.purchase('churned181', daysAgo(181), 10),
    ]);
    await kit.runner.engine.run();
    const tags = await kit.tags();
    const stage = (p: string): string | undefined => tags.get(p)?.['lifecycle'];
    expect(stage('prospect')).toBe('prospect');
    expect(stage('new30')).toBe('new');
    expect(stage('new31')).toBe('active');
    expect(stage('react')).toBe('reactivated'); // 280 days after the purchase before it
    expect(stage('gap180')).toBe('active'); // exactly 180 days after: not more than 180
    expect(stage('active90')).toBe('active');
    expect(stage('risk91')).toBe('at_risk');
    expect(stage('risk180')).toBe('at_risk');
    expect(stage('churned181')).toBe('churned');
  });

  it('churn risk: last event of any kind and last purchase', async () => {
    await kit.define([builtin('churn_risk')]);
    await kit.insert([
      { person: 'fresh', ago: daysAgo(2), type: 'page', name: 'Home' },
      { person: 'idle14', ago: daysAgo(14), type: 'page', name: 'Home' },
      { person: 'idle13', ago: daysAgo(13), type: 'page', name: 'Home' },
      { person: 'idle30', ago: daysAgo(30), type: 'page', name: 'Home' },
      kit.purchase('buyer60', daysAgo(60), 10),
      { person: 'buyer60', ago: daysAgo(1), type: 'page', name: 'Home' },
      kit.purchase('buyer90', daysAgo(90), 10),
      { person: 'buyer90', ago: daysAgo(1), type: 'page', name: 'Home' },
      kit.purchase('buyer59', daysAgo(59), 10),
      { person: 'buyer59', ago: daysAgo(1), type: 'page', name: 'Home' },
    ]);
    await kit.runner.engine.run();
    const tags = await kit.tags();
    const risk = (p: string): string | undefined => tags.get(p)?.['churn_risk'];
    expect(risk('fresh')).toBe('low');
    expect(risk('idle13')).toBe('low');
    expect(risk('idle14')).toBe('medium');
    expect(risk('idle30')).toBe('high');
    expect(risk('buyer59')).toBe('low');
    expect(risk('buyer60')).toBe('medium');
    expect(risk('buyer90')).toBe('high');
  });

  it('member tier: upgrade mid-period at once, downgrade by one tier only at the review date', async () => {
    await kit.define([builtin('member_tier')]);
    await kit.insert([kit.purchase('m', daysAgo(5), 600), { person: 'm', ago: 0, userId: 'u-m' }]);
    await kit.warehouse.insert(TABLES.identities, [
      {
        id_type: 'user_id',
        id_value: 'u-m',
        one_id: 'm',
        first_seen: new Date(NOW).toISOString(),
        last_seen: new Date(NOW).toISOString(),
        version: 1,
      },
    ]);
    await kit.runner.engine.run();
    expect((await kit.tags()).get('m')?.['member_tier']).toBe('Silver');

    // Ten days later a 1,500 order: 2,100 in the period, Gold at once.
    kit.clock = NOW + 10 * DAY;
    await kit.insert([kit.purchase('m', 0, 1500)]);
    const up = await kit.runner.engine.run();
    expect(up.kind).toBe('incremental');
    expect((await kit.tags()).get('m')?.['member_tier']).toBe('Gold');
    expect(
      kit.emitted.map((e) => [e.event, e.userId, e.properties['from'], e.properties['to']]),
    ).toEqual([['Tier Upgraded', 'u-m', 'Silver', 'Gold']]);

    // Spend falls out of the period, but no downgrade before the review
    // date (one period after the upgrade).
    kit.clock = NOW + 10 * DAY + 364 * DAY;
    await kit.runner.engine.run();
    expect((await kit.tags()).get('m')?.['member_tier']).toBe('Gold');

    // At the review: down one tier (to Silver), even though spend is Bronze's.
    kit.clock = NOW + 10 * DAY + 366 * DAY;
    await kit.runner.engine.run();
    expect((await kit.tags()).get('m')?.['member_tier']).toBe('Silver');
    // And not again before the next review.
    kit.clock += 30 * DAY;
    await kit.runner.engine.run();
    expect((await kit.tags()).get('m')?.['member_tier']).toBe('Silver');

    const history = await kit.warehouse.query<{
      from_tier: string;
      to_tier: string;
      reason: string;
    }>(
      `SELECT from_tier, to_tier, reason FROM ${TABLES.tierHistory} FINAL WHERE person_id = 'm' ORDER BY at`,
    );
    expect(history).toEqual([
      { from_tier: '', to_tier: 'Silver', reason: 'joined' },
      { from_tier: 'Silver', to_tier: 'Gold', reason: 'upgrade' },
      { from_tier: 'Gold', to_tier: 'Silver', reason: 'downgrade' },
    ]);
    expect(kit.emitted.map((e) => e.event)).toEqual(['Tier Upgraded', 'Tier Downgraded']);
  });

  it('spending power by tertile of order value; price sensitivity by share of discounted orders', async () => {
    await kit.define([builtin('spending_power'), builtin('price_sensitivity')]);
    await kit.insert([
      kit.purchase('low', daysAgo(1), 10),
      kit.purchase('mid', daysAgo(1), 20),
      kit.purchase('high', daysAgo(1), 30),
      kit.purchase('high', daysAgo(2), 30, { coupon: 'SAVE' }),
      kit.purchase('mid', daysAgo(3), 20, { discount: 0 }),
      kit.purchase('mid', daysAgo(4), 20, { discount: 5 }),
      kit.purchase('mid', daysAgo(5), 20),
      kit.purchase('mid', daysAgo(6), 20),
    ]);
    await kit.runner.engine.run();
    const tags = await kit.tags();
    expect(tags.get('low')).toEqual({ spending_power: 'low', price_sensitivity: 'low' });
    // 1 of 5 orders discounted (discount 0 is none): 20%.
    expect(tags.get('mid')).toEqual({ spending_power: 'medium', price_sensitivity: 'medium' });
    expect(tags.get('high')).toEqual({ spending_power: 'high', price_sensitivity: 'high' });
  });

  it('top categories (weighted, last 90 days) and the preferred channel (of most sessions)', async () => {
    await kit.define([builtin('top_categories'), builtin('preferred_channel')]);
    const view = (
      ago: number,
      category: string,
      channel = 'Email',
    ): {
      person: string;
      ago: number;
      event: string;
      properties: Record<string, unknown>;
      channel: string;
    } => ({
      person: 'p',
      ago,
      event: 'Product Viewed',
      properties: { category },
      channel,
    });
    await kit.insert([
      view(daysAgo(1), 'shoes'),
      view(daysAgo(1) + 60_000, 'shoes'),
      view(daysAgo(1) + 120_000, 'shoes'),
      {
        person: 'p',
        ago: daysAgo(2),
        event: 'Product Added',
        properties: { category: 'bags' },
        channel: 'Email',
      },
      kit.purchase('p', daysAgo(3), 10, { category: 'hats' }),
      view(daysAgo(100), 'socks', 'Paid Search'),
      view(daysAgo(100) + 60_000, 'socks', 'Paid Search'),
      view(daysAgo(100) + 120_000, 'socks', 'Paid Search'),
      view(daysAgo(100) + 180_000, 'socks', 'Paid Search'),
    ]);
    await kit.runner.engine.run();
    const tags = await kit.tags();
    // hats 5, shoes 3, bags 3 (tie: by name); socks are older than 90 days.
    expect(tags.get('p')).toEqual({
      top_categories: '["hats","bags","shoes"]',
      // Sessions: days 1, 2, 3 from Email (3), day 100 from Paid Search (1).
      preferred_channel: 'Email',
    });
  });

  it('a OneID merge between two runs moves the merged person’s tags to the survivor', async () => {
    await kit.define([builtin('rfm')]);
    await kit.insert([kit.purchase('q1', daysAgo(3), 100), kit.purchase('q2', daysAgo(5), 200)]);
    await kit.runner.engine.run();
    let tags = await kit.tags();
    expect(tags.get('q1')).toMatchObject({ frequency: '1', monetary: '100' });
    expect(tags.get('q2')).toMatchObject({ frequency: '1', monetary: '200' });

    await kit.warehouse.insert(TABLES.personOverrides, [
      { from_one_id: 'q1', into_one_id: 'q2', reason: 'identify', version: 10 },
    ]);
    const r = await kit.runner.engine.run();
    expect(r.kind).toBe('incremental');
    tags = await kit.tags();
    expect(tags.has('q1')).toBe(false);
    expect(tags.get('q2')).toMatchObject({ recency_days: '3', frequency: '2', monetary: '300' });
    const messages = await kit.published(14 + 7 + 1);
    const q1 = messages.filter((m) => m['personId'] === 'q1' && m['to'] === null);
    expect(q1.map((m) => m['tag']).sort()).toEqual([
      'f_score',
      'frequency',
      'm_score',
      'monetary',
      'r_score',
      'recency_days',
      'rfm_group',
    ]);
  });
});
