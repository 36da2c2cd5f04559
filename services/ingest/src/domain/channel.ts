/**
 * GA4 default channel grouping.
 *
 * Implements the rules of Google's Analytics Help article "[GA4] Default
 * channel group" (support.google.com/analytics/answer/9756891) for manually
 * tagged and untagged traffic, evaluated in Google's order. Two steps:
 *
 * 1. {@link resolveTrafficSource} turns UTM values, click ids and the referrer
 *    into GA4's session `source / medium / campaign` (auto-tagging first, then
 *    UTMs, then the referrer, else `(direct) / (none)`).
 * 2. {@link channelForTraffic} applies {@link CHANNEL_RULES} in order.
 *
 * What GA4 knows and this module cannot: Google Ads network type, DV360
 * creative format and SA360 engine type. Auto-tagged Google Ads clicks are
 * therefore classified from `google / cpc` plus the `utm_campaign` name, when
 * one is present (so Performance Max shows as Cross-network only when the
 * campaign name says `cross-network`).
 *
 * All matching is case-insensitive, as in GA4.
 */

import { CHANNELS, type Channel } from '@cdp/analytics';
import { BoundedCache } from './bounded-cache.js';
import { hostParts, isSameSite, normalizeHost } from './host.js';

// The list is shared with analytics (the channel columns of its reports).
export { CHANNELS, type Channel };

/** The site categories GA4 ships lists for (`SOURCE_CATEGORY_*`). */
export type SourceCategory = 'shopping' | 'search' | 'social' | 'video';

/**
 * How the sources of one category are recognised.
 *
 * - `brands`: a registrable label (`google`) that matches the bare name
 *   `google` and the host of the brand's main site on any TLD
 *   (`google.co.uk`, `www.google.de`, `search.yahoo.co.jp`): the part left of
 *   the label may only be generic ({@link GENERIC_SUBDOMAIN_LABEL}), so
 *   `docs.google.com` is not a search engine.
 * - `hosts`: a domain that matches itself and every subdomain
 *   (`facebook.com` covers `l.facebook.com`).
 * - `names`: exact values only (`google shopping`, `ig`, `stripe.com`).
 */
export interface SourceList {
  readonly brands: readonly string[];
  readonly hosts: readonly string[];
  readonly names: readonly string[];
}

/**
 * Labels allowed left of a brand label: `www`, `m`, `mobile`, `touch`, `web`,
 * `search`, and two-letter country or language labels (`uk.search.yahoo.com`).
 */
export const GENERIC_SUBDOMAIN_LABEL = /^(?:www\d*|m|mobile|touch|web|search|[a-z]{2})$/;

/**
 * Shopping sites. Based on Google's published `SOURCE_CATEGORY_SHOPPING`
 * list, widened with large marketplaces (Taobao, Tmall, JD, AliExpress,
 * Shopee, Lazada, Temu, ...) that Google's list lacks.
 */
export const SHOPPING_SOURCES: SourceList = {
  brands: [
    'alibaba',
    'aliexpress',
    'allegro',
    'amazon',
    'coupang',
    'ebay',
    'etsy',
    'flipkart',
    'jd',
    'lazada',
    'mercadolibre',
    'mercadolivre',
    'pinduoduo',
    'shein',
    'shopee',
    'shopify',
    'shopzilla',
    'taobao',
    'temu',
    'tmall',
    'walmart',
    'zalando',
  ],
  hosts: [
    'aliexpress.com',
    'amazon-adsystem.com',
    'checkout.stripe.com',
    'ebay.com',
    'etsy.com',
    'jd.com',
    'shop.app',
    'shopify.com',
    'shopping.google.com',
    'shopping.naver.com',
    'shopping.yahoo.co.jp',
    'shopping.yahoo.com',
    'taobao.com',
    'temu.com',
    'tmall.com',
  ],
  names: ['google shopping', 'igshopping', 'stripe', 'stripe.com'],
};

/**
 * Search engines. Based on Google's `SOURCE_CATEGORY_SEARCH` list. Note that
 * Google files `rakuten` (Rakuten web search) and `mail.google.com` here, and
 * so does this list.
 */
export const SEARCH_SOURCES: SourceList = {
  brands: [
    'aol',
    'ask',
    'baidu',
    'bing',
    'daum',
    'duckduckgo',
    'ecosia',
    'google',
    'msn',
    'naver',
    'onet',
    'qwant',
    'rakuten',
    'rambler',
    'seznam',
    'sogou',
    'startpage',
    'yahoo',
    'yandex',
  ],
  hosts: [
    'centrum.cz',
    'cse.google.com',
    'dogpile.com',
    'exalead.com',
    'excite.com',
    'firmy.cz',
    'go.mail.ru',
    'kagi.com',
    'mail.google.com',
    'mail.rambler.ru',
    'mail.yandex.ru',
    'mojeek.com',
    'news.google.com',
    'search.brave.com',
    'search.google.com',
    'search.ukr.net',
    'so.com',
    'websearch.rakuten.co.jp',
  ],
  names: [
    '360.cn',
    'alice',
    'auone',
    'avg',
    'babylon',
    'biglobe',
    'cnn',
    'comcast',
    'conduit',
    'dogpile',
    'eniro',
    'globo',
    'google-play',
    'googlemybusiness',
    'incredimail',
    'kvasir',
    'lycos',
    'najdi',
    'search-results',
    'startsiden',
    'terra',
    'ukr',
    'virgilio',
  ],
};

/**
 * Social sites. Based on Google's `SOURCE_CATEGORY_SOCIAL` list, widened with
 * X, Threads, Bluesky, Mastodon, Discord, Douyin and Xiaohongshu.
 */
export const SOCIAL_SOURCES: SourceList = {
  brands: [
    'badoo',
    'deviantart',
    'douban',
    'facebook',
    'flickr',
    'goodreads',
    'instagram',
    'kakao',
    'linkedin',
    'meetup',
    'myspace',
    'nextdoor',
    'pinterest',
    'quora',
    'reddit',
    'renren',
    'snapchat',
    'tiktok',
    'tripadvisor',
    'tumblr',
    'twitter',
    'vk',
    'wechat',
    'weibo',
    'whatsapp',
    'xing',
    'yelp',
    'zhihu',
  ],
  hosts: [
    'ameblo.jp',
    'answers.yahoo.com',
    'bit.ly',
    'blog.naver.com',
    'blogger.com',
    'blogspot.com',
    'bsky.app',
    'cafe.naver.com',
    'discord.com',
    'discord.gg',
    'disqus.com',
    'douyin.com',
    'facebook.com',
    'fb.com',
    'fb.me',
    'goo.gl',
    'groups.google.com',
    'instagram.com',
    'kin.naver.com',
    'line.me',
    'linkedin.com',
    'lnkd.in',
    'mastodon.social',
    'medium.com',
    'messages.google.com',
    'messenger.com',
    'mixi.jp',
    'news.ycombinator.com',
    'ok.ru',
    'pin.it',
    'pinterest.com',
    'plus.google.com',
    'qzone.qq.com',
    'redd.it',
    'reddit.com',
    'sites.google.com',
    'slideshare.net',
    'snapchat.com',
    'stackexchange.com',
    'stackoverflow.com',
    't.co',
    't.me',
    'threads.com',
    'threads.net',
    'tiktok.com',
    'tinyurl.com',
    'tumblr.com',
    'twitter.com',
    'vk.com',
    'wa.me',
    'weibo.cn',
    'weibo.com',
    'weixin.qq.com',
    'whatsapp.com',
    'wordpress.com',
    'x.com',
    'xhslink.com',
    'xiaohongshu.com',
  ],
  names: [
    'bluesky',
    'discord',
    'douyin',
    'fb',
    'google+',
    'ig',
    'line',
    'mastodon',
    'messenger',
    'rednote',
    'telegram',
    'threads',
    'x',
    'xiaohongshu',
  ],
};

/** Video sites. Based on Google's `SOURCE_CATEGORY_VIDEO` list, plus Bilibili and Rumble. */
export const VIDEO_SOURCES: SourceList = {
  brands: [
    'bilibili',
    'crackle',
    'curiositystream',
    'dailymotion',
    'disneyplus',
    'hulu',
    'iqiyi',
    'netflix',
    'rumble',
    'ted',
    'twitch',
    'veoh',
    'vimeo',
    'wistia',
    'youku',
    'youtube',
  ],
  hosts: [
    'b23.tv',
    'd.tube',
    'dai.ly',
    'iq.com',
    'twitch.tv',
    'utreon.com',
    'vimeo.com',
    'wistia.net',
    'youtu.be',
    'youtube.com',
  ],
  names: ['utreon'],
};

/** All category lists, keyed by category. */
export const SOURCE_CATEGORIES: Readonly<Record<SourceCategory, SourceList>> = {
  shopping: SHOPPING_SOURCES,
  search: SEARCH_SOURCES,
  social: SOCIAL_SOURCES,
  video: VIDEO_SOURCES,
};

/** Paid media: `^(.*cp.*|ppc|retargeting|paid.*)$` (Paid Shopping/Search/Social/Video/Other). */
export const PAID_MEDIUM_RE = /^(.*cp.*|ppc|retargeting|paid.*)$/;
/** Shopping campaign names: `^(.*(([^a-df-z]|^)shop|shopping).*)$` (Paid and Organic Shopping). */
export const SHOPPING_CAMPAIGN_RE = /^(.*(([^a-df-z]|^)shop|shopping).*)$/;
/** Cross-network: campaign name contains `cross-network`. */
export const CROSS_NETWORK_CAMPAIGN_RE = /cross-network/;
/** Display: medium is one of these. */
export const DISPLAY_MEDIA: readonly string[] = [
  'display',
  'banner',
  'expandable',
  'interstitial',
  'cpm',
];
/** Organic Social: medium is one of these. */
export const SOCIAL_MEDIA: readonly string[] = [
  'social',
  'social-network',
  'social-media',
  'sm',
  'social network',
  'social media',
];
/** Organic Video: medium matches `^(.*video.*)$`. */
export const VIDEO_MEDIUM_RE = /^(.*video.*)$/;
/** Referral: medium is one of these. */
export const REFERRAL_MEDIA: readonly string[] = ['referral', 'app', 'link'];
/** Email: source or medium is exactly one of these. */
export const EMAIL_VALUES: readonly string[] = ['email', 'e-mail', 'e_mail', 'e mail'];
/** Mobile Push Notifications: medium ends with `push`, or contains `mobile` or `notification`. */
export const PUSH_MEDIUM_RE = /push$|mobile|notification/;
/** Mobile Push Notifications: source is exactly this. */
export const PUSH_SOURCE = 'firebase';

/** GA4's session traffic-source triple. */
export interface TrafficSource {
  /** `utm_source`, `google` for auto-tagged clicks, the search engine, the referring host, or `(direct)`. */
  readonly source: string;
  /** `utm_medium`, `cpc`, `organic`, `referral`, `(none)` or `(not set)`. */
  readonly medium: string;
  /** `utm_campaign`, or GA4's placeholders `(organic)`, `(referral)`, `(direct)`, `(not set)`. */
  readonly campaign: string;
}

/** Click ids the classifier understands; other ids are accepted and ignored. */
export interface ChannelClickIds {
  readonly gclid?: string | undefined;
  readonly gbraid?: string | undefined;
  readonly wbraid?: string | undefined;
  readonly dclid?: string | undefined;
  readonly [other: string]: string | undefined;
}

/** Input of {@link classifyChannel} and {@link resolveTrafficSource}. */
export interface ChannelInput {
  /** `utm_source`. */
  readonly source?: string | null | undefined;
  /** `utm_medium`. */
  readonly medium?: string | null | undefined;
  /** `utm_campaign` (Segment's `context.campaign.name`). */
  readonly campaign?: string | null | undefined;
  /** Host (or URL) of the referring page. */
  readonly referrerHost?: string | null | undefined;
  /**
   * Host of the page the event happened on. A referrer on the same site
   * (same registrable domain) is not a referral. Without it every referrer
   * counts as external.
   */
  readonly pageHost?: string | null | undefined;
  /** Click ids from the landing URL. */
  readonly clickIds?: ChannelClickIds | null | undefined;
  /**
   * GA4 lets auto-tagging (gclid/gbraid/wbraid/dclid) win over UTM values;
   * `true` lets UTM values win instead. Default `false`.
   */
  readonly manualOverridesAutoTagging?: boolean | undefined;
}

/** Google Ads click ids: an auto-tagged click is `google / cpc`. */
export const GOOGLE_ADS_CLICK_IDS = ['gclid', 'gbraid', 'wbraid'] as const;
/** Campaign Manager 360 / DV360 click id: `dfa / cpm`. */
export const DISPLAY_CLICK_ID = 'dclid';

/**
 * Referrer hosts that are search apps rather than web hosts
 * (`android-app://com.google.android.googlequicksearchbox/`), mapped to the
 * engine's source name.
 */
export const SEARCH_APP_REFERRERS: Readonly<Record<string, string>> = {
  'com.google.android.googlequicksearchbox': 'google',
};

const NOT_SET = '(not set)';

function clean(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim().toLowerCase();
  return trimmed === '' ? undefined : trimmed;
}

interface CategoryIndex {
  readonly names: ReadonlyMap<string, SourceCategory>;
  readonly hosts: ReadonlyMap<string, SourceCategory>;
  readonly brands: ReadonlyMap<string, SourceCategory>;
}

function buildIndex(): CategoryIndex {
  const names = new Map<string, SourceCategory>();
  const hosts = new Map<string, SourceCategory>();
  const brands = new Map<string, SourceCategory>();
  for (const [category, list] of Object.entries(SOURCE_CATEGORIES) as [
    SourceCategory,
    SourceList,
  ][]) {
    for (const brand of list.brands) {
      brands.set(brand, category);
      names.set(brand, category);
    }
    for (const host of list.hosts) hosts.set(host, category);
    for (const name of list.names) names.set(name, category);
  }
  return { names, hosts, brands };
}

const INDEX = buildIndex();

function brandOf(host: string): string | undefined {
  const parts = hostParts(host);
  if (parts === undefined) return undefined;
  if (
    parts.subdomain !== '' &&
    !parts.subdomain.split('.').every((label) => GENERIC_SUBDOMAIN_LABEL.test(label))
  ) {
    return undefined;
  }
  return parts.label;
}

/**
 * The GA4 source category of a source value (a `utm_source` or a referring
 * host): exact names first, then host suffixes (`l.facebook.com` →
 * `facebook.com`), then the brand of a main site on any TLD (`amazon.de`).
 *
 * @returns the category, or `undefined` when the source is in no list.
 */
export function sourceCategory(source: unknown): SourceCategory | undefined {
  const value = clean(source);
  if (value === undefined) return undefined;
  const exact = INDEX.names.get(value) ?? INDEX.hosts.get(value);
  if (exact !== undefined) return exact;
  const host = normalizeHost(value);
  if (host === undefined) return undefined;
  const byName = INDEX.names.get(host);
  if (byName !== undefined) return byName;
  const labels = host.split('.');
  for (let i = 0; i < labels.length - 1; i += 1) {
    const found = INDEX.hosts.get(labels.slice(i).join('.'));
    if (found !== undefined) return found;
  }
  const brand = brandOf(host);
  return brand === undefined ? undefined : INDEX.brands.get(brand);
}

/**
 * If a referring host is a search engine's results site, the engine's GA4
 * source name (`www.google.co.uk` → `google`, `search.yahoo.co.jp` →
 * `yahoo`). Hosts that are merely on a search company's domain
 * (`docs.google.com`) are not search engines.
 *
 * @returns the engine name, or `undefined`.
 */
export function detectSearchEngine(referrerHost: unknown): string | undefined {
  const host = normalizeHost(referrerHost);
  if (host === undefined) return undefined;
  const app = SEARCH_APP_REFERRERS[host];
  if (app !== undefined) return app;
  const brand = brandOf(host);
  if (brand === undefined) return undefined;
  return SEARCH_SOURCES.brands.includes(brand) ? brand : undefined;
}

/**
 * GA4's session `source / medium / campaign` for one hit, in GA4's order of
 * precedence:
 *
 * 1. Google Ads auto-tagging (`gclid`, `gbraid`, `wbraid`) → `google / cpc`;
 *    `dclid` → `dfa / cpm`. These win over UTM values unless
 *    `manualOverridesAutoTagging` is set. The campaign is `utm_campaign` when
 *    present. Other click ids (`fbclid`, `msclkid`, `ttclid`, ...) change
 *    nothing, as in GA4.
 * 2. Any of `utm_source`, `utm_medium`, `utm_campaign` → the UTM values, with
 *    `(not set)` for the missing ones.
 * 3. A referrer on another site → `<engine> / organic` for search engines,
 *    otherwise `<host> / referral` (`www.` removed).
 * 4. Otherwise (no referrer, or a same-site one) → `(direct) / (none)`.
 *
 * Source and medium are lower-cased; the campaign is lower-cased as well
 * because it is only used for matching.
 */
export function resolveTrafficSource(input: ChannelInput): TrafficSource {
  return taggedTrafficSource(input) ?? untaggedTrafficSource(input.referrerHost, input.pageHost);
}

/** Steps 1 and 2 of {@link resolveTrafficSource}: `undefined` when neither applies. */
function taggedTrafficSource(input: ChannelTagging): TrafficSource | undefined {
  const source = clean(input.source);
  const medium = clean(input.medium);
  const campaign = clean(input.campaign);
  const hasUtm = source !== undefined || medium !== undefined || campaign !== undefined;
  const clickIds = input.clickIds ?? {};
  const hasGoogleAdsClick = GOOGLE_ADS_CLICK_IDS.some((id) => clean(clickIds[id]) !== undefined);
  const hasDisplayClick = clean(clickIds[DISPLAY_CLICK_ID]) !== undefined;

  if (
    (hasGoogleAdsClick || hasDisplayClick) &&
    !(hasUtm && input.manualOverridesAutoTagging === true)
  ) {
    return hasGoogleAdsClick
      ? { source: 'google', medium: 'cpc', campaign: campaign ?? NOT_SET }
      : { source: 'dfa', medium: 'cpm', campaign: campaign ?? NOT_SET };
  }
  if (hasUtm) {
    return { source: source ?? NOT_SET, medium: medium ?? NOT_SET, campaign: campaign ?? NOT_SET };
  }
  return undefined;
}

/** Steps 3 and 4 of {@link resolveTrafficSource}: the referrer, else direct. */
function untaggedTrafficSource(referrerHost: unknown, pageHost: unknown): TrafficSource {
  const referrer = normalizeHost(referrerHost);
  if (referrer !== undefined && !isSameSite(referrer, pageHost)) {
    const engine = detectSearchEngine(referrer);
    return engine !== undefined
      ? { source: engine, medium: 'organic', campaign: '(organic)' }
      : { source: referrer, medium: 'referral', campaign: '(referral)' };
  }
  return { source: '(direct)', medium: '(none)', campaign: '(direct)' };
}

/** The facts the channel rules look at, lower-cased, with the source category resolved once. */
export interface RuleFacts {
  readonly source: string;
  readonly medium: string;
  readonly campaign: string;
  readonly category: SourceCategory | undefined;
}

/** One GA4 channel rule. */
export interface ChannelRule {
  readonly channel: Exclude<Channel, 'Unassigned'>;
  /** Google's definition, for humans. */
  readonly definition: string;
  readonly matches: (facts: RuleFacts) => boolean;
}

const isPaid = (f: RuleFacts): boolean => PAID_MEDIUM_RE.test(f.medium);
const isShoppingCampaign = (f: RuleFacts): boolean => SHOPPING_CAMPAIGN_RE.test(f.campaign);

/**
 * GA4's rules in Google's evaluation order; the first match wins and no match
 * is `Unassigned`.
 */
export const CHANNEL_RULES: readonly ChannelRule[] = [
  {
    channel: 'Direct',
    definition: 'Source exactly matches "(direct)" AND Medium is one of ("(not set)", "(none)")',
    matches: (f) => f.source === '(direct)' && (f.medium === '(not set)' || f.medium === '(none)'),
  },
  {
    channel: 'Cross-network',
    definition: 'Campaign Name contains "cross-network"',
    matches: (f) => CROSS_NETWORK_CAMPAIGN_RE.test(f.campaign),
  },
  {
    channel: 'Paid Shopping',
    definition:
      '(Source matches a list of shopping sites OR Campaign Name matches the shopping regex) AND Medium matches the paid regex',
    matches: (f) => (f.category === 'shopping' || isShoppingCampaign(f)) && isPaid(f),
  },
  {
    channel: 'Paid Search',
    definition: 'Source matches a list of search sites AND Medium matches the paid regex',
    matches: (f) => f.category === 'search' && isPaid(f),
  },
  {
    channel: 'Paid Social',
    definition: 'Source matches a list of social sites AND Medium matches the paid regex',
    matches: (f) => f.category === 'social' && isPaid(f),
  },
  {
    channel: 'Paid Video',
    definition: 'Source matches a list of video sites AND Medium matches the paid regex',
    matches: (f) => f.category === 'video' && isPaid(f),
  },
  {
    channel: 'Display',
    definition: 'Medium is one of ("display", "banner", "expandable", "interstitial", "cpm")',
    matches: (f) => DISPLAY_MEDIA.includes(f.medium),
  },
  {
    channel: 'Paid Other',
    definition: 'Medium matches regex ^(.*cp.*|ppc|retargeting|paid.*)$',
    matches: isPaid,
  },
  {
    channel: 'Organic Shopping',
    definition:
      'Source matches a list of shopping sites OR Campaign name matches the shopping regex',
    matches: (f) => f.category === 'shopping' || isShoppingCampaign(f),
  },
  {
    channel: 'Organic Social',
    definition: 'Source matches a list of social sites OR Medium is one of the social media',
    matches: (f) => f.category === 'social' || SOCIAL_MEDIA.includes(f.medium),
  },
  {
    channel: 'Organic Video',
    definition: 'Source matches a list of video sites OR Medium matches regex ^(.*video.*)$',
    matches: (f) => f.category === 'video' || VIDEO_MEDIUM_RE.test(f.medium),
  },
  {
    channel: 'Organic Search',
    definition: 'Source matches a list of search sites OR Medium exactly matches organic',
    matches: (f) => f.category === 'search' || f.medium === 'organic',
  },
  {
    channel: 'Referral',
    definition: 'Medium is one of ("referral", "app", "link")',
    matches: (f) => REFERRAL_MEDIA.includes(f.medium),
  },
  {
    channel: 'Email',
    definition: 'Source = email|e-mail|e_mail|e mail OR Medium = email|e-mail|e_mail|e mail',
    matches: (f) => EMAIL_VALUES.includes(f.source) || EMAIL_VALUES.includes(f.medium),
  },
  {
    channel: 'Affiliates',
    definition: 'Medium = affiliate',
    matches: (f) => f.medium === 'affiliate',
  },
  {
    channel: 'Audio',
    definition: 'Medium exactly matches audio',
    matches: (f) => f.medium === 'audio',
  },
  {
    channel: 'SMS',
    definition: 'Source exactly matches sms OR Medium exactly matches sms',
    matches: (f) => f.source === 'sms' || f.medium === 'sms',
  },
  {
    channel: 'Mobile Push Notifications',
    definition:
      'Medium ends with "push" OR Medium contains "mobile" or "notification" OR Source exactly matches "firebase"',
    matches: (f) => PUSH_MEDIUM_RE.test(f.medium) || f.source === PUSH_SOURCE,
  },
];

/**
 * Applies {@link CHANNEL_RULES} to an already resolved traffic source (for
 * example one read back from the warehouse). Case-insensitive.
 */
export function channelForTraffic(traffic: TrafficSource): Channel {
  const facts: RuleFacts = {
    source: traffic.source.trim().toLowerCase(),
    medium: traffic.medium.trim().toLowerCase(),
    campaign: traffic.campaign.trim().toLowerCase(),
    category: sourceCategory(traffic.source),
  };
  for (const rule of CHANNEL_RULES) {
    if (rule.matches(facts)) return rule.channel;
  }
  return 'Unassigned';
}

/**
 * The GA4 default channel group of one hit: {@link resolveTrafficSource}
 * followed by {@link channelForTraffic}.
 *
 * @example
 * classifyChannel({ referrerHost: 'www.google.com' }) // 'Organic Search'
 * classifyChannel({ source: 'facebook', medium: 'paid_social' }) // 'Paid Social'
 * classifyChannel({ clickIds: { gclid: 'abc' } }) // 'Paid Search'
 */
export function classifyChannel(input: ChannelInput): Channel {
  return classifyChannelWith(input, () => input);
}

/** {@link ChannelInput} without the hosts. */
export type ChannelTagging = Omit<ChannelInput, 'referrerHost' | 'pageHost'>;

/**
 * {@link classifyChannel} with the referrer and page hosts asked for only
 * when they matter, for untagged traffic: finding them means parsing URLs.
 */
export function classifyChannelWith(
  tagging: ChannelTagging,
  hosts: () => Pick<ChannelInput, 'referrerHost' | 'pageHost'>,
): Channel {
  const tagged = taggedTrafficSource(tagging);
  if (tagged !== undefined) return taggedChannel(tagged);
  const { referrerHost, pageHost } = hosts();
  return untaggedChannel(referrerHost, pageHost);
}

/** Most distinct traffic sources each channel memo remembers; it starts afresh past this. */
export const CHANNEL_CACHE_SIZE = 10_000;
/** Longer keys are classified without the memo (two hosts of up to 253 characters fit). */
const MAX_CHANNEL_CACHE_KEY_LENGTH = 512;
/**
 * Classification runs the source lists, host heuristics and GA4 regexes
 * (up to microseconds per event), while campaigns, referrers and page hosts
 * repeat heavily: channels are memoised, tagged and untagged traffic apart.
 */
const taggedChannelCache = new BoundedCache<Channel>(
  CHANNEL_CACHE_SIZE,
  MAX_CHANNEL_CACHE_KEY_LENGTH,
);
const untaggedChannelCache = new BoundedCache<Channel>(
  CHANNEL_CACHE_SIZE,
  MAX_CHANNEL_CACHE_KEY_LENGTH,
);

/**
 * {@link channelForTraffic}, memoised. The key is the source and the medium,
 * each after its length, then the campaign, so no two triples share one.
 */
function taggedChannel(traffic: TrafficSource): Channel {
  const { source, medium, campaign } = traffic;
  return taggedChannelCache.get(
    `${source.length}:${source}${medium.length}:${medium}${campaign}`,
    () => channelForTraffic(traffic),
  );
}

/**
 * The channel of untagged traffic, memoised. The key is the referrer's
 * length, the referrer, then the page host, so that no two pairs share one;
 * a non-string page host counts as `''`, which is equally no host.
 */
function untaggedChannel(referrerHost: unknown, pageHost: unknown): Channel {
  if (typeof referrerHost !== 'string') {
    return channelForTraffic(untaggedTrafficSource(referrerHost, pageHost));
  }
  const page = typeof pageHost === 'string' ? pageHost : '';
  return untaggedChannelCache.get(`${referrerHost.length}:${referrerHost}${page}`, () =>
    channelForTraffic(untaggedTrafficSource(referrerHost, page)),
  );
}
