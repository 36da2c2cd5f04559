/**
 * Server-side enrichment of one Segment-style event into warehouse columns:
 * corrected times, channel, UTM and page fields, client IP under the
 * source's IP policy, user agent and bot flag.
 *
 * Pure: the receive time, request IP and request User-Agent are arguments.
 * The event is untrusted input of any shape; nothing here throws on it.
 */

import { botVerdict, MAX_USER_AGENT_LENGTH, type UserAgentOrigin } from './bot.js';
import { extractCampaign, pageFields } from './campaign.js';
import { classifyChannelWith, type Channel } from './channel.js';
import { correctClockSkew, parseClientTime, type ClockSkewFlag } from './clock-skew.js';
import { hostOfUrl } from './host.js';
import { applyIpPolicyToParsed, parseIp, type IpPolicy } from './ip-policy.js';

/** Request facts and settings for {@link enrich}. */
export interface EnrichOptions {
  /** Server receive time, epoch ms. */
  readonly receivedAt: number;
  /**
   * The write key's source. Enrichment does not depend on it today; accepted
   * so the route can pass its request facts as one object.
   */
  readonly sourceId?: string | undefined;
  /** Client IP of the request (see `clientIp`); used when the event has no `context.ip`. */
  readonly ip: string | null | undefined;
  /** Request `User-Agent`; used when the event has no `context.userAgent`. */
  readonly userAgent: string | null | undefined;
  /** The source's IP policy. */
  readonly ipPolicy: IpPolicy;
  /** Default 1 hour; see `correctClockSkew`. */
  readonly maxFutureMs?: number | undefined;
  /**
   * `sentAt` of the enclosing `/v1/batch` body. Segment's libraries put
   * `sentAt` on the batch, not on each event; the event's own `sentAt` wins.
   */
  readonly batchSentAt?: unknown;
  /** See `correctClockSkew`. Default `false`. */
  readonly trustClientTimestamp?: boolean | undefined;
}

/** The enrichment columns of a warehouse row. Times are epoch ms. */
export interface EnrichedFields {
  readonly timestamp: number;
  readonly received_at: number;
  readonly sent_at: number | null;
  readonly original_timestamp: number | null;
  readonly clock_skew_flag: ClockSkewFlag;
  readonly channel: Channel;
  readonly utm_source: string | null;
  readonly utm_medium: string | null;
  readonly utm_campaign: string | null;
  readonly utm_term: string | null;
  readonly utm_content: string | null;
  readonly page_url: string | null;
  readonly page_path: string | null;
  readonly referrer: string | null;
  readonly ip: string | null;
  readonly user_agent: string | null;
  readonly is_bot: boolean;
}

type Bag = Readonly<Record<string, unknown>>;

function bag(value: unknown): Bag {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Bag) : {};
}

function userAgentOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  return trimmed.length > MAX_USER_AGENT_LENGTH ? trimmed.slice(0, MAX_USER_AGENT_LENGTH) : trimmed;
}

/**
 * The IP column: `context.ip` when it is an address, else the request IP,
 * under the source's policy. Each candidate is parsed once, and not at all
 * when the policy drops addresses.
 */
function storedIp(contextIp: unknown, options: EnrichOptions): string | null {
  if (options.ipPolicy === 'drop') return null;
  const parsed = parseIp(contextIp) ?? parseIp(options.ip);
  return parsed === undefined ? null : applyIpPolicyToParsed(parsed, options.ipPolicy);
}

/**
 * Enriches one event.
 *
 * - Times: `correctClockSkew` on the event's `timestamp`, `originalTimestamp`
 *   and `sentAt` (else `batchSentAt`).
 * - Campaign and page: `extractCampaign` and `pageFields`; channel:
 *   `classifyChannel` with the referrer's host, the page's host (so internal
 *   navigation is not a referral) and the click ids. An event without any
 *   campaign, click id or external referrer is `Direct`, which is what GA4's
 *   rules give and what last-non-direct attribution skips.
 * - IP: `context.ip` when it is a valid address (server-side libraries pass
 *   the end user's), else the request IP; then the IP policy.
 * - User agent: `context.userAgent` when present (browser SDKs), else the
 *   request header. `is_bot` follows `botVerdict`, which does not count an
 *   HTTP library in the request header as a bot.
 */
export function enrich(event: unknown, options: EnrichOptions): EnrichedFields {
  const e = bag(event);
  const context = bag(e['context']);

  // The event's own `sentAt` wins when it parses; passed on parsed (a valid
  // epoch-ms number parses to itself) so it is not parsed twice.
  const sentAt = parseClientTime(e['sentAt']) ?? options.batchSentAt;
  const times = correctClockSkew({
    receivedAt: options.receivedAt,
    sentAt,
    originalTimestamp: e['originalTimestamp'],
    timestamp: e['timestamp'],
    maxFutureMs: options.maxFutureMs,
    trustClientTimestamp: options.trustClientTimestamp,
  });

  const campaign = extractCampaign(event);
  const page = pageFields(event);
  const channel = classifyChannelWith(
    {
      source: campaign.utm_source,
      medium: campaign.utm_medium,
      campaign: campaign.utm_campaign,
      clickIds: campaign.click_ids,
    },
    () => ({ referrerHost: hostOfUrl(page.referrer), pageHost: hostOfUrl(page.page_url) }),
  );

  const ip = storedIp(context['ip'], options);

  const contextUa = userAgentOf(context['userAgent']);
  const ua = contextUa ?? userAgentOf(options.userAgent);
  const origin: UserAgentOrigin = contextUa !== undefined ? 'client' : 'request';

  return {
    timestamp: times.timestamp,
    received_at: options.receivedAt,
    sent_at: times.sentAt ?? null,
    original_timestamp: times.originalTimestamp ?? null,
    clock_skew_flag: times.flag,
    channel,
    utm_source: campaign.utm_source,
    utm_medium: campaign.utm_medium,
    utm_campaign: campaign.utm_campaign,
    utm_term: campaign.utm_term,
    utm_content: campaign.utm_content,
    page_url: page.page_url,
    page_path: page.page_path,
    referrer: page.referrer,
    ip,
    user_agent: ua ?? null,
    is_bot: botVerdict(ua, origin) === 'bot',
  };
}
