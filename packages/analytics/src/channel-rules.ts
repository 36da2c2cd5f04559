/**
 * Channel classifiers for attribution and channel paths, as parameter-free
 * SQL over the `events` columns (nothing from a request is spliced in: the
 * request only picks a name).
 *
 * - `ga4` (default): the stored `channel` column, which ingest fills with
 *   GA4's default channel groups.
 * - `snowplow`: Snowplow fractribution's `channel_classification` macro
 *   (dbt-snowplow-fractribution, default dispatch), rewritten for ClickHouse
 *   over `utm_medium`, `utm_source`, `utm_campaign` (their `mkt_*`). An empty
 *   column stands for their SQL NULL: a `NOT regexp` branch does not match it.
 */
import { CHANNELS } from './channels.js';

export const CHANNEL_CLASSIFIERS = ['ga4', 'snowplow'] as const;

/** A named channel classifier. */
export type ChannelClassifier = (typeof CHANNEL_CLASSIFIERS)[number];

/** The ga4 channel for an empty (or unknown) stored channel. */
export const UNKNOWN_CHANNEL = 'Unassigned';

const RETARGETING = 'retargeting|re-targeting|remarketing|re-marketing';

/** Snowplow's rules in order: `[condition, channel]`; no rule matching gives `Unmatched_Channel`. */
const SNOWPLOW_RULES: readonly (readonly [string, string])[] = [
  [
    `lower(utm_medium) IN ('cpc', 'ppc') AND match(lower(utm_campaign), 'brand')`,
    'Paid_Search_Brand',
  ],
  [
    `lower(utm_medium) IN ('cpc', 'ppc') AND match(lower(utm_campaign), 'generic')`,
    'Paid_Search_Generic',
  ],
  [
    `lower(utm_medium) IN ('cpc', 'ppc') AND utm_campaign != '' AND NOT match(lower(utm_campaign), 'brand|generic')`,
    'Paid_Search_Other',
  ],
  [`lower(utm_medium) = 'organic'`, 'Organic_Search'],
  [
    `lower(utm_medium) IN ('display', 'cpm', 'banner') AND match(lower(utm_campaign), 'prospect')`,
    'Display_Prospecting',
  ],
  [
    `lower(utm_medium) IN ('display', 'cpm', 'banner') AND match(lower(utm_campaign), '${RETARGETING}')`,
    'Display_Retargeting',
  ],
  [
    `lower(utm_medium) IN ('display', 'cpm', 'banner') AND utm_campaign != '' AND NOT match(lower(utm_campaign), 'prospect|${RETARGETING}')`,
    'Display_Other',
  ],
  [
    `match(lower(utm_campaign), 'video|youtube') OR match(lower(utm_source), 'video|youtube')`,
    'Video',
  ],
  [
    `lower(utm_medium) = 'social' AND match(lower(utm_campaign), 'prospect')`,
    'Paid_Social_Prospecting',
  ],
  [
    `lower(utm_medium) = 'social' AND match(lower(utm_campaign), '${RETARGETING}')`,
    'Paid_Social_Retargeting',
  ],
  [
    `lower(utm_medium) = 'social' AND utm_campaign != '' AND NOT match(lower(utm_campaign), 'prospect|${RETARGETING}')`,
    'Paid_Social_Other',
  ],
  [`utm_source = '(direct)'`, 'Direct'],
  [`lower(utm_medium) = 'referral'`, 'Referral'],
  [`lower(utm_medium) = 'email'`, 'Email'],
  [`lower(utm_medium) IN ('cpc', 'ppc', 'cpv', 'cpa', 'affiliates')`, 'Other_Advertising'],
];
const SNOWPLOW_FALLBACK = 'Unmatched_Channel';

/**
 * Every channel a classifier can yield, in a fixed order. Position + 1 is
 * the channel's number in {@link channelIndexSql}.
 */
export function channelNames(classifier: ChannelClassifier): readonly string[] {
  switch (classifier) {
    case 'ga4':
      return CHANNELS;
    case 'snowplow':
      return [...new Set([...SNOWPLOW_RULES.map(([, name]) => name), SNOWPLOW_FALLBACK])];
  }
}

const quote = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** A ClickHouse array literal of a classifier's channel names. */
export function channelNamesSql(classifier: ChannelClassifier): string {
  return `[${channelNames(classifier).map(quote).join(', ')}]`;
}

/**
 * The SQL expression (over an `events` row) giving a classifier's channel as
 * its number in {@link channelNames} (1-based, a `UInt8`). Numbers keep the
 * per-person arrays fixed-width, which is what makes sessionising 10 million
 * events fast; names are put back on the aggregated paths. For `ga4`, a
 * stored channel outside GA4's groups (ingest never writes one) counts as
 * `Unassigned`.
 */
export function channelIndexSql(classifier: ChannelClassifier): string {
  const names = channelNames(classifier);
  const numbers = `[${names.map((_, i) => i + 1).join(', ')}]`;
  switch (classifier) {
    case 'ga4':
      return `toUInt8(transform(channel, ${channelNamesSql(classifier)}, ${numbers}, ${names.indexOf(UNKNOWN_CHANNEL) + 1}))`;
    case 'snowplow':
      return `toUInt8(multiIf(${SNOWPLOW_RULES.map(([c, n]) => `${c}, ${names.indexOf(n) + 1}`).join(',\n  ')},\n  ${names.indexOf(SNOWPLOW_FALLBACK) + 1}))`;
  }
}

/** Whether a value names a classifier. */
export const isChannelClassifier = (v: unknown): v is ChannelClassifier =>
  typeof v === 'string' && (CHANNEL_CLASSIFIERS as readonly string[]).includes(v);
