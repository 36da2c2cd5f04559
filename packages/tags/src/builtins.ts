import { DERIVED_SOURCE_ID } from '@cdp/core';
import type { BuiltinDefinition, TagDefinition, TagValueType } from './types.js';

const PURCHASE = { event: 'Order Completed', valueProperty: 'revenue' } as const;

/**
 * The built-in definitions, on by default. Users read and change them like
 * any other definition (`PUT /v1/tags/rfm`); deleting one restores these
 * defaults on the next start only if it was never stored.
 */
export const BUILTIN_DEFINITIONS: readonly BuiltinDefinition[] = [
  {
    name: 'rfm',
    type: 'rfm',
    description:
      'Recency (days since last purchase), frequency (purchases) and monetary (value) over the window; scores 1-5 by rank among purchasers; rfm_group from the scores.',
    params: { ...PURCHASE, windowDays: 365 },
  },
  {
    name: 'lifecycle',
    type: 'lifecycle',
    description:
      'prospect (never purchased), new, reactivated, active, at_risk, churned: first match wins.',
    params: { ...PURCHASE, newDays: 30, reactivatedGapDays: 180, activeDays: 90, atRiskDays: 180 },
  },
  {
    name: 'churn_risk',
    type: 'churn_risk',
    description:
      'high when the last event is 30+ days old or a purchaser last bought 90+ days ago; medium at 14 and 60 days; else low.',
    params: {
      ...PURCHASE,
      highInactiveDays: 30,
      highNoPurchaseDays: 90,
      mediumInactiveDays: 14,
      mediumNoPurchaseDays: 60,
    },
  },
  {
    name: 'member_tier',
    type: 'member_tier',
    description:
      'Tier by spend over a rolling period: upgrades at once, downgrades by one tier at the review date (one period after the last change).',
    params: {
      ...PURCHASE,
      periodDays: 365,
      tiers: [
        { name: 'Bronze', minSpend: 0 },
        { name: 'Silver', minSpend: 500 },
        { name: 'Gold', minSpend: 2000 },
        { name: 'Platinum', minSpend: 10000 },
      ],
    },
  },
  {
    name: 'spending_power',
    type: 'spending_power',
    description: 'high/medium/low by tertile of average order value among purchasers.',
    params: { ...PURCHASE },
  },
  {
    name: 'price_sensitivity',
    type: 'price_sensitivity',
    description: 'Share of orders with a discount or coupon: high >= 50%, medium >= 20%, else low.',
    params: { ...PURCHASE, discountProperties: ['discount', 'coupon'], high: 0.5, medium: 0.2 },
  },
  {
    name: 'top_categories',
    type: 'top_categories',
    description:
      'Top 3 product categories over the last 90 days, weighted: viewed 1, added to cart 3, purchased 5.',
    params: {
      property: 'category',
      days: 90,
      top: 3,
      weights: { 'Product Viewed': 1, 'Product Added': 3, 'Order Completed': 5 },
    },
  },
  {
    name: 'preferred_channel',
    type: 'preferred_channel',
    description:
      'The channel of most of the person’s sessions (30 minutes of inactivity end one; a session takes its first event’s channel).',
    params: { sessionMinutes: 30 },
  },
];

/** The RFM group names, in the order the first match is taken. */
export const RFM_GROUPS: readonly {
  readonly name: string;
  readonly r: readonly [number, number];
  readonly f: readonly [number, number];
  readonly m: readonly [number, number];
}[] = [
  { name: 'Champions', r: [4, 5], f: [4, 5], m: [4, 5] },
  { name: 'Loyal Customers', r: [2, 5], f: [3, 5], m: [3, 5] },
  { name: 'New Customers', r: [4, 5], f: [1, 1], m: [1, 1] },
  { name: 'Promising', r: [3, 4], f: [1, 1], m: [1, 1] },
  { name: 'Potential Loyalist', r: [3, 5], f: [1, 3], m: [1, 3] },
  { name: 'Need Attention', r: [2, 3], f: [2, 3], m: [2, 3] },
  { name: 'About To Sleep', r: [2, 3], f: [1, 2], m: [1, 2] },
  { name: 'Cannot Lose Them', r: [1, 1], f: [4, 5], m: [4, 5] },
  { name: 'At Risk', r: [1, 2], f: [2, 5], m: [2, 5] },
  { name: 'Hibernating', r: [1, 2], f: [1, 2], m: [1, 2] },
  { name: 'Lost', r: [1, 1], f: [1, 5], m: [1, 5] },
];
export const RFM_OTHERS = 'Others';

/** The tags the RFM definition produces. */
export const RFM_TAGS = [
  'recency_days',
  'frequency',
  'monetary',
  'r_score',
  'f_score',
  'm_score',
  'rfm_group',
] as const;

/** The tags a definition produces, with how their values read. */
export function outputsOf(def: TagDefinition): { name: string; valueType: TagValueType }[] {
  switch (def.type) {
    case 'rfm':
      return RFM_TAGS.map((t) => ({ name: t, valueType: t === 'rfm_group' ? 'string' : 'number' }));
    case 'top_categories':
      return [{ name: def.name, valueType: 'list' }];
    case 'computed': {
      const fn = def.computed.fn;
      const numeric = ['count', 'sum', 'avg', 'min', 'max', 'unique_count'];
      const days = ['days_since_first', 'days_since_last'];
      if (numeric.includes(fn) || days.includes(fn))
        return [{ name: def.name, valueType: 'number' }];
      if (fn === 'unique_list') return [{ name: def.name, valueType: 'list' }];
      return [{ name: def.name, valueType: 'string' }];
    }
    case 'rule': {
      const values = [...def.rule.rules.map((r) => r.value), def.rule.default];
      const numeric = values.every((v) => v === undefined || typeof v === 'number');
      return [{ name: def.name, valueType: numeric ? 'number' : 'string' }];
    }
    case 'lifecycle':
    case 'churn_risk':
    case 'member_tier':
    case 'spending_power':
    case 'price_sensitivity':
    case 'preferred_channel':
      return [{ name: def.name, valueType: 'string' }];
  }
}

export { DERIVED_SOURCE_ID };
