/**
 * Campaign (UTM), click-id and page fields of a Segment-style event.
 *
 * Everything here reads an untrusted, loosely typed event: any field may be
 * missing, of the wrong type, or garbage. Nothing throws; unusable values
 * become `null`.
 */

import { hostOfUrl } from './host.js';

/** Longest kept UTM value, in UTF-16 code units; longer values are cut. */
export const MAX_CAMPAIGN_VALUE_LENGTH = 255;
/** Longest kept click id. */
export const MAX_CLICK_ID_LENGTH = 512;
/** Longest kept `page_url`, `page_path` and `referrer`. */
export const MAX_URL_LENGTH = 4096;
/** Only this much of a URL is searched for a query string. */
export const MAX_QUERY_SCAN_LENGTH = 16_384;

/** The UTM fields, by warehouse column. */
export const UTM_FIELDS = [
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'utm_id',
] as const;

/** One UTM warehouse column. */
export type UtmField = (typeof UTM_FIELDS)[number];

/**
 * Keys tried in Segment's `context.campaign` for each UTM field. Segment's
 * libraries strip `utm_` and rename `utm_campaign` to `name`; the prefixed
 * spellings are accepted for hand-built payloads.
 */
export const SEGMENT_CAMPAIGN_KEYS: Readonly<Record<UtmField, readonly string[]>> = {
  utm_source: ['source', 'utm_source'],
  utm_medium: ['medium', 'utm_medium'],
  utm_campaign: ['name', 'campaign', 'utm_campaign'],
  utm_term: ['term', 'keyword', 'utm_term'],
  utm_content: ['content', 'utm_content'],
  utm_id: ['id', 'utm_id'],
};

/**
 * Ad-platform click ids read from landing URLs: Google Ads (`gclid`,
 * `gbraid`, `wbraid`), Campaign Manager / DV360 (`dclid`), Meta (`fbclid`),
 * Microsoft (`msclkid`), TikTok (`ttclid`), LinkedIn (`li_fat_id`), X
 * (`twclid`), Pinterest (`epik`), Reddit (`rdt_cid`), Snapchat (`sccid`),
 * Yandex (`yclid`).
 */
export const CLICK_ID_PARAMS = [
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'ttclid',
  'li_fat_id',
  'twclid',
  'epik',
  'rdt_cid',
  'sccid',
  'yclid',
] as const;

/** One known click-id parameter. */
export type ClickIdName = (typeof CLICK_ID_PARAMS)[number];

/** The click ids found on an event; absent ids are left out. */
export type ClickIds = Partial<Record<ClickIdName, string>>;

/** UTM columns (`null` when absent) plus the click ids. */
export type CampaignFields = { readonly [K in UtmField]: string | null } & {
  readonly click_ids: ClickIds;
};

/** Page columns of the warehouse row. */
export interface PageFields {
  readonly page_url: string | null;
  readonly page_path: string | null;
  readonly referrer: string | null;
}

type Bag = Readonly<Record<string, unknown>>;

const EMPTY: Bag = Object.freeze({});

function bag(value: unknown): Bag {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Bag)
    : EMPTY;
}

/** Cuts a string to `max` code units without splitting a surrogate pair. */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return value.slice(0, end);
}

function text(value: unknown, max: number): string | null {
  let raw: string;
  if (typeof value === 'string') raw = value;
  else if (typeof value === 'number' && Number.isFinite(value)) raw = String(value);
  else return null;
  const trimmed = raw.trim();
  return trimmed === '' ? null : truncate(trimmed, max);
}

/**
 * The query parameters of a URL, a relative URL or a bare `?a=b` search
 * string, with lower-cased names and the first value of each name. A query
 * inside the fragment (`/#/page?utm_source=x`, hash routers) is used when the
 * URL has none before it.
 *
 * @returns `undefined` when `url` is not a string or has no query.
 */
export function parseQuery(url: unknown): ReadonlyMap<string, string> | undefined {
  const query = queryOf(url);
  return query === undefined ? undefined : parseQueryString(query);
}

/** The query string {@link parseQuery} reads from `url`, without the `?`; `undefined` when none. */
function queryOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  const s = url.length > MAX_QUERY_SCAN_LENGTH ? url.slice(0, MAX_QUERY_SCAN_LENGTH) : url;
  const hashAt = s.indexOf('#');
  const beforeHash = hashAt === -1 ? s : s.slice(0, hashAt);
  let query: string | undefined;
  const questionAt = beforeHash.indexOf('?');
  if (questionAt !== -1) {
    query = beforeHash.slice(questionAt + 1);
  } else if (hashAt !== -1) {
    const inHash = s.indexOf('?', hashAt);
    if (inHash !== -1) query = s.slice(inHash + 1);
  }
  return query === '' ? undefined : query;
}

/**
 * What `application/x-www-form-urlencoded` decoding changes: `%` escapes,
 * `+`, and UTF-16 surrogates (`URLSearchParams` replaces unpaired ones).
 */
const NEEDS_DECODING = /[%+\uD800-\uDFFF]/;

/**
 * The query's parameters as {@link URLSearchParams} reads them, keeping the
 * first value of each lower-cased, trimmed name.
 *
 * Most query strings need no decoding, so they are split directly
 * (`URLSearchParams` costs a few microseconds per URL); the others go to
 * `URLSearchParams`.
 */
function parseQueryString(query: string): Map<string, string> {
  if (NEEDS_DECODING.test(query)) return parseWithUrlSearchParams(query);
  const params = new Map<string, string>();
  // URLSearchParams drops one leading `?`.
  const body = query.startsWith('?') ? query.slice(1) : query;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const equalsAt = pair.indexOf('=');
    if (equalsAt === -1) addParam(params, pair, '');
    else addParam(params, pair.slice(0, equalsAt), pair.slice(equalsAt + 1));
  }
  return params;
}

function parseWithUrlSearchParams(query: string): Map<string, string> {
  const params = new Map<string, string>();
  // URLSearchParams never throws; malformed escapes come back as U+FFFD.
  for (const [name, value] of new URLSearchParams(query)) addParam(params, name, value);
  return params;
}

function addParam(params: Map<string, string>, name: string, value: string): void {
  const key = name.trim().toLowerCase();
  if (!params.has(key)) params.set(key, value);
}

function asSearch(value: unknown): unknown {
  return typeof value === 'string' && !value.includes('?') ? `?${value}` : value;
}

interface EventParts {
  readonly context: Bag;
  readonly page: Bag;
  readonly properties: Bag;
  readonly isPageCall: boolean;
}

function parts(event: unknown): EventParts {
  const e = bag(event);
  const context = bag(e['context']);
  return {
    context,
    page: bag(context['page']),
    properties: bag(e['properties']),
    isPageCall: e['type'] === 'page',
  };
}

/**
 * Where campaign values are looked for, most trusted first: the URLs' query
 * strings. `properties.*` is used only on page calls, where it describes the
 * page; on other calls it is user data.
 */
function queryCandidates(p: EventParts): CandidateQuery[] {
  const queries: string[] = [];
  const add = (url: unknown): void => {
    const query = queryOf(url);
    // analytics.js repeats the page's query in `search` and in `properties`:
    // a repeat can add nothing to the first, so each is read once.
    if (query !== undefined && !queries.includes(query)) queries.push(query);
  };
  add(p.page['url']);
  if (p.isPageCall) add(p.properties['url']);
  add(asSearch(p.page['search']));
  if (p.isPageCall) add(asSearch(p.properties['search']));
  return queries.map((query) => new CandidateQuery(query));
}

/** Any click-id parameter name, as text. */
const CLICK_ID_TEXT = new RegExp(CLICK_ID_PARAMS.join('|'));
const CLICK_ID_NAMES: ReadonlySet<string> = new Set(CLICK_ID_PARAMS);

/**
 * One query string of the event, parsed only when something is read from it:
 * with `context.campaign` present, a query is usually read for click ids
 * only, and most have none.
 */
class CandidateQuery {
  private parsed: ReadonlyMap<string, string> | undefined;

  constructor(private readonly query: string) {}

  get params(): ReadonlyMap<string, string> {
    this.parsed ??= parseQueryString(this.query);
    return this.parsed;
  }

  /**
   * Whether a click id is among the parameter names. A query that needs no
   * decoding has its names as they are written, so when its lower-cased text
   * mentions no click id it has none: an unparsed query is not parsed for that.
   */
  hasClickIdName(): boolean {
    if (this.parsed === undefined && !this.mayMentionClickId()) return false;
    for (const name of this.params.keys()) if (CLICK_ID_NAMES.has(name)) return true;
    return false;
  }

  private mayMentionClickId(): boolean {
    return NEEDS_DECODING.test(this.query) || CLICK_ID_TEXT.test(this.query.toLowerCase());
  }
}

/**
 * UTM values and click ids of an event.
 *
 * UTM values come from one place, the first that has any of them:
 * `context.campaign` (Segment: `name` = `utm_campaign`), then the query
 * string of `context.page.url`, of `properties.url` (page calls), of
 * `context.page.search`, of `properties.search` (page calls). Taking them
 * from a single place keeps a source from one URL from pairing with a medium
 * from another. Each click id is taken from the first place that has it.
 *
 * Values are trimmed and cut to {@link MAX_CAMPAIGN_VALUE_LENGTH}
 * ({@link MAX_CLICK_ID_LENGTH} for click ids); `utm_source` and `utm_medium`
 * are lower-cased; empty and non-string values (numbers are kept) are `null`.
 */
export function extractCampaign(event: unknown): CampaignFields {
  const p = parts(event);
  const campaign = bag(p.context['campaign']);
  const queries = queryCandidates(p);

  let utm = utmFromCampaign(campaign);
  for (const query of queries) {
    if (utm !== undefined) break;
    utm = utmFromQuery(query.params);
  }
  utm ??= emptyUtm();

  return {
    utm_source: utm.utm_source?.toLowerCase() ?? null,
    utm_medium: utm.utm_medium?.toLowerCase() ?? null,
    utm_campaign: utm.utm_campaign,
    utm_term: utm.utm_term,
    utm_content: utm.utm_content,
    utm_id: utm.utm_id,
    click_ids: clickIdsOf(campaign, queries),
  };
}

type UtmValues = Record<UtmField, string | null>;

/** The UTM values of `context.campaign`, or `undefined` when it has none. */
function utmFromCampaign(campaign: Bag): UtmValues | undefined {
  if (campaign === EMPTY) return undefined;
  const utm = emptyUtm();
  let found = false;
  for (const field of UTM_FIELDS) {
    for (const key of SEGMENT_CAMPAIGN_KEYS[field]) {
      const value = text(campaign[key], MAX_CAMPAIGN_VALUE_LENGTH);
      if (value !== null) {
        utm[field] = value;
        found = true;
        break;
      }
    }
  }
  return found ? utm : undefined;
}

/** The UTM values of a query string, or `undefined` when it has none. */
function utmFromQuery(query: ReadonlyMap<string, string>): UtmValues | undefined {
  const utm = emptyUtm();
  let found = false;
  for (const field of UTM_FIELDS) {
    const value = text(query.get(field), MAX_CAMPAIGN_VALUE_LENGTH);
    if (value !== null) {
      utm[field] = value;
      found = true;
    }
  }
  return found ? utm : undefined;
}

/** Each click id from the first place that has it: `context.campaign`, then the queries in order. */
function clickIdsOf(campaign: Bag, queries: readonly CandidateQuery[]): ClickIds {
  const clickIds: ClickIds = {};
  // Hot path: most events have no click id anywhere, so the places that
  // cannot have one are dropped before looking up each id.
  const withIds = queries.filter((query) => query.hasClickIdName()).map((query) => query.params);
  if (campaign === EMPTY && withIds.length === 0) return clickIds;
  for (const id of CLICK_ID_PARAMS) {
    let found = text(campaign[id], MAX_CLICK_ID_LENGTH);
    for (let i = 0; found === null && i < withIds.length; i += 1) {
      found = text(withIds[i]?.get(id), MAX_CLICK_ID_LENGTH);
    }
    if (found !== null) clickIds[id] = found;
  }
  return clickIds;
}

function emptyUtm(): UtmValues {
  return {
    utm_source: null,
    utm_medium: null,
    utm_campaign: null,
    utm_term: null,
    utm_content: null,
    utm_id: null,
  };
}

/** A trimmed, cut URL-ish string; only strings count (numbers do not). */
function urlText(value: unknown): string | null {
  return typeof value === 'string' ? text(value, MAX_URL_LENGTH) : null;
}

function pathOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    const pathname = new URL(url).pathname;
    return pathname === '' ? null : truncate(pathname, MAX_URL_LENGTH);
  } catch {
    return null;
  }
}

/**
 * The page columns of an event.
 *
 * Page calls carry the page in `properties` (`url`, `path`, `referrer`) and
 * usually in `context.page` too: `properties` wins there. Other calls use
 * `context.page` only. `page_path` falls back to the path of `page_url`;
 * `referrer` falls back to `context.referrer.url` (mobile deep links).
 * Values are trimmed and cut to {@link MAX_URL_LENGTH}; nothing is validated
 * beyond being a non-empty string.
 */
export function pageFields(event: unknown): PageFields {
  const p = parts(event);
  const pick = (key: string): string | null =>
    (p.isPageCall ? urlText(p.properties[key]) : null) ?? urlText(p.page[key]);
  const pageUrl = pick('url');
  const contextReferrer = bag(p.context['referrer'])['url'];
  return {
    page_url: pageUrl,
    page_path: pick('path') ?? pathOf(pageUrl),
    referrer: pick('referrer') ?? urlText(contextReferrer),
  };
}

/**
 * Host of the event's referrer (see {@link pageFields}), lower-cased, without
 * `www.`; `null` when there is no referrer or it is not an absolute URL.
 */
export function referrerHost(event: unknown): string | null {
  return hostOfUrl(pageFields(event).referrer) ?? null;
}

/** Host of the event's page URL, like {@link referrerHost}. */
export function pageHost(event: unknown): string | null {
  return hostOfUrl(pageFields(event).page_url) ?? null;
}
