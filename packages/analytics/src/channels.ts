/**
 * The GA4 default channel groups, in rule order, plus `Unassigned`: what
 * ingest's classifier writes to `events.channel` and what the `ga4`
 * classifier of reports reads back.
 */
export const CHANNELS = [
  'Direct',
  'Cross-network',
  'Paid Shopping',
  'Paid Search',
  'Paid Social',
  'Paid Video',
  'Display',
  'Paid Other',
  'Organic Shopping',
  'Organic Social',
  'Organic Video',
  'Organic Search',
  'Referral',
  'Email',
  'Affiliates',
  'Audio',
  'SMS',
  'Mobile Push Notifications',
  'Unassigned',
] as const;

/** One GA4 default channel group. */
export type Channel = (typeof CHANNELS)[number];
