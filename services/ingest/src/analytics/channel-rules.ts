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
export const CHANNEL_CLASSIFIERS = ['ga4', 'snowplow'] as const;

/** A named channel classifier. */
export type ChannelClassifier = (typeof CHANNEL_CLASSIFIERS)[number];

/** The channel name used when a classifier yields an empty string. */
export const UNKNOWN_CHANNEL = 'Unassigned';

const RETARGETING = 'retargeting|re-targeting|remarketing|re-marketing';

const SNOWPLOW_SQL = `multiIf(
  lower(utm_medium) IN ('cpc', 'ppc') AND match(lower(utm_campaign), 'brand'), 'Paid_Search_Brand',
  lower(utm_medium) IN ('cpc', 'ppc') AND match(lower(utm_campaign), 'generic'), 'Paid_Search_Generic',
  lower(utm_medium) IN ('cpc', 'ppc') AND utm_campaign != '' AND NOT match(lower(utm_campaign), 'brand|generic'), 'Paid_Search_Other',
  lower(utm_medium) = 'organic', 'Organic_Search',
  lower(utm_medium) IN ('display', 'cpm', 'banner') AND match(lower(utm_campaign), 'prospect'), 'Display_Prospecting',
  lower(utm_medium) IN ('display', 'cpm', 'banner') AND match(lower(utm_campaign), '${RETARGETING}'), 'Display_Retargeting',
  lower(utm_medium) IN ('display', 'cpm', 'banner') AND utm_campaign != '' AND NOT match(lower(utm_campaign), 'prospect|${RETARGETING}'), 'Display_Other',
  match(lower(utm_campaign), 'video|youtube') OR match(lower(utm_source), 'video|youtube'), 'Video',
  lower(utm_medium) = 'social' AND match(lower(utm_campaign), 'prospect'), 'Paid_Social_Prospecting',
  lower(utm_medium) = 'social' AND match(lower(utm_campaign), '${RETARGETING}'), 'Paid_Social_Retargeting',
  lower(utm_medium) = 'social' AND utm_campaign != '' AND NOT match(lower(utm_campaign), 'prospect|${RETARGETING}'), 'Paid_Social_Other',
  utm_source = '(direct)', 'Direct',
  lower(utm_medium) = 'referral', 'Referral',
  lower(utm_medium) = 'email', 'Email',
  lower(utm_medium) IN ('cpc', 'ppc', 'cpv', 'cpa', 'affiliates'), 'Other_Advertising',
  'Unmatched_Channel')`;

/** The SQL expression (over an `events` row) giving a classifier's channel; never empty. */
export function channelSql(classifier: ChannelClassifier): string {
  switch (classifier) {
    case 'ga4':
      return `if(channel = '', '${UNKNOWN_CHANNEL}', toString(channel))`;
    case 'snowplow':
      return SNOWPLOW_SQL;
  }
}

/** Whether a value names a classifier. */
export const isChannelClassifier = (v: unknown): v is ChannelClassifier =>
  typeof v === 'string' && (CHANNEL_CLASSIFIERS as readonly string[]).includes(v);
