/**
 * Sessions and channel numbers as attribution uses them (`@cdp/analytics`),
 * so a person's preferred channel counts the same sessions as their paths.
 */
import {
  channelIndexSql as analyticsChannelIndexSql,
  channelNames,
  packedTouchSql,
  sessionsSql,
  TOUCH_TYPES_SQL,
} from '@cdp/analytics';

/** GA4 channel groups; position + 1 is a channel's number. */
export const CHANNEL_NAMES_GA4: readonly string[] = channelNames('ga4');

/** The stored GA4 channel of an `events` row as its number. */
export const channelIndexSql = (): string => analyticsChannelIndexSql('ga4');

export { packedTouchSql, sessionsSql, TOUCH_TYPES_SQL };
