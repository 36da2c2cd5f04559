/** Bucket sizes of a series, in milliseconds. */
export const INTERVALS = {
  '1m': 60_000,
  '5m': 300_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
} as const;
export type Interval = keyof typeof INTERVALS;

/** Breakdowns, and the column of `metrics_minute` / `events` each reads. */
export const BREAKDOWNS = {
  channel: 'channel',
  source: 'source_id',
  utm_campaign: 'utm_campaign',
} as const;
export type Breakdown = keyof typeof BREAKDOWNS;

/** Only rows whose breakdown columns have these values. */
export type MetricFilter = Readonly<Partial<Record<Breakdown, string>>>;

export type FilterOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'contains' | 'exists';
export type Scalar = string | number | boolean;

export interface PropertyFilter {
  readonly property: string;
  readonly op: FilterOp;
  readonly value?: Scalar | readonly Scalar[];
}

/** A user's metric: events of a name (or any) and filters, measured; or a ratio of two metrics. */
export interface MetricDefinition {
  readonly name: string;
  readonly description?: string;
  readonly event?: string;
  readonly where?: readonly PropertyFilter[];
  readonly measure?:
    | 'events'
    | 'persons'
    | { readonly fn: 'sum' | 'avg' | 'min' | 'max'; readonly property: string };
  readonly ratio?: { readonly numerator: string; readonly denominator: string };
}

/** What a series is asked for: `[from, to)` in epoch ms, bucketed by `interval` (UTC, aligned). */
export interface SeriesQuery {
  readonly from: number;
  readonly to: number;
  readonly interval: Interval;
  readonly breakdown?: Breakdown | undefined;
  readonly filter?: MetricFilter | undefined;
  /** funnel_step_rate: the from and to events. */
  readonly steps?: readonly [string, string] | undefined;
}

export interface Point {
  /** The bucket's start, ISO UTC. */
  readonly t: string;
  /** null where the metric is a ratio of nothing (no one in the bucket). */
  readonly value: number | null;
  /** The breakdown value; absent without a breakdown. */
  readonly key?: string;
}

/** One bucket of one breakdown value as a query answers it: the metric is `num / den * scale`. */
export interface Cell {
  readonly bucket: number;
  readonly key: string;
  readonly num: number;
  readonly den: number;
  /** Distinct persons in the bucket (what minimum volumes count). */
  readonly volume: number;
}

export type Compare = 'threshold' | 'previous' | 'week_ago' | 'baseline';

export interface AlertRule {
  readonly name: string;
  readonly metric: string;
  readonly steps?: readonly [string, string] | undefined;
  readonly filter?: MetricFilter | undefined;
  readonly windowMinutes: number;
  readonly compare: Compare;
  readonly threshold?: number | undefined;
  readonly baselineWindows?: number | undefined;
  readonly direction: 'down' | 'up';
  readonly change?: number | undefined;
  readonly minVolume?: number | undefined;
  readonly breakdown?: Breakdown | undefined;
  readonly webhook?: { readonly url: string; readonly secret: string } | undefined;
  readonly muted?: boolean | undefined;
  readonly snoozedUntil?: string | null | undefined;
}

export type AlertStateName = 'ok' | 'firing' | 'resolved';
