import type { SqlParams } from '@cdp/tags';

/** What the SQL of a built-in metric needs besides its rows. */
export interface MetricContext {
  readonly p: SqlParams;
  /** The conversion event (as for attribution; default `Order Completed`). */
  readonly conversion: string;
  /** funnel_step_rate: the from and to events. */
  readonly steps?: readonly [string, string] | undefined;
}

/**
 * A built-in metric: aggregates over grouped `metrics_minute` rows (merges of
 * the per-minute states), the value being `num / den * scale` (`den`
 * absent: 1). Each is a definition users can read (`GET /v1/metrics`).
 */
export interface BuiltinMetric {
  readonly name: string;
  readonly description: string;
  readonly num: (c: MetricContext) => string;
  readonly den?: (c: MetricContext) => string;
  readonly scale?: number;
  /** Needs `steps` (funnel_step_rate). */
  readonly steps?: boolean;
  /** Reads `events_invalid` as well (dead_letter_rate). */
  readonly deadLetters?: boolean;
  /**
   * Reads `metrics_receipt_minute` (by ingest's receipt, per source) instead
   * of `metrics_minute`: breaks down and filters by source only.
   */
  readonly receipt?: boolean;
  /** The volume (what minimum volumes count) when it is not distinct persons. */
  readonly volume?: () => string;
}

const persons = (cond?: string): string =>
  cond ? `uniqExactMergeIf(persons, ${cond})` : 'uniqExactMerge(persons)';
const messages = (cond?: string): string =>
  cond ? `uniqExactMergeIf(messages, ${cond})` : 'uniqExactMerge(messages)';
const isConversion = (c: MetricContext): string =>
  `type = 'track' AND event = ${c.p.str(c.conversion)}`;
const revenue = (c: MetricContext): string =>
  `arraySum(arrayMap(x -> x.2, groupUniqArrayMergeIf(revenue, ${isConversion(c)})))`;
const stepOf = (c: MetricContext, i: 0 | 1): string =>
  `type = 'track' AND event = ${c.p.str(c.steps?.[i] ?? '')}`;

export const BUILTIN_METRICS: readonly BuiltinMetric[] = [
  {
    name: 'uv',
    description: 'Unique persons (one_id as stamped) with any event.',
    num: () => persons(),
  },
  {
    name: 'sessions',
    description:
      "Sessions: a person's browser session (context.sessionId), else a person's half hour.",
    num: () => 'uniqExactMerge(sessions)',
  },
  {
    name: 'events',
    description: 'Events of any kind (distinct message ids).',
    num: () => messages(),
  },
  { name: 'pageviews', description: 'Page calls.', num: () => messages(`type = 'page'`) },
  {
    name: 'conversions',
    description: 'Conversion events (the conversion event, default Order Completed).',
    num: (c) => messages(isConversion(c)),
  },
  {
    name: 'conversion_rate',
    description: 'Persons converting / unique persons.',
    num: (c) => persons(isConversion(c)),
    den: () => persons(),
  },
  {
    name: 'revenue',
    description: "Sum of the conversion events' revenue (else value) property.",
    num: revenue,
  },
  {
    name: 'aov',
    description: 'Average order value: revenue / conversions.',
    num: revenue,
    den: (c) => messages(isConversion(c)),
  },
  {
    name: 'add_to_cart_rate',
    description: 'Persons with a Product Added / unique persons.',
    num: (c) => persons(`type = 'track' AND event = ${c.p.str('Product Added')}`),
    den: () => persons(),
  },
  {
    name: 'funnel_step_rate',
    description:
      'Persons with the second step / persons with the first (steps=A,B), in each bucket.',
    num: (c) => persons(stepOf(c, 1)),
    den: (c) => persons(stepOf(c, 0)),
    steps: true,
  },
  {
    name: 'dead_letter_rate',
    description:
      'Refused events / (stored + refused events), by the minute ingest received them (volume: events).',
    num: () => '0',
    deadLetters: true,
    receipt: true,
  },
  {
    name: 'ingest_lag_seconds',
    description:
      "Mean seconds from ingest's receipt of an event to its row in the warehouse, by minute of receipt (volume: events).",
    num: () => 'sumMerge(lag_ms)',
    den: () => 'countMerge(rows)',
    scale: 0.001,
    receipt: true,
    volume: () => 'countMerge(rows)',
  },
];

export const BUILTIN_BY_NAME: ReadonlyMap<string, BuiltinMetric> = new Map(
  BUILTIN_METRICS.map((m) => [m.name, m]),
);

/** Names a user metric cannot take. */
export const RESERVED_NAMES: readonly string[] = [...BUILTIN_METRICS.map((m) => m.name), 'live'];
