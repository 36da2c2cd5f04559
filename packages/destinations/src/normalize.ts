/**
 * Each ad platform's normalisation and hashing of customer data, exactly as
 * the platform documents it (see RULES for the sources). A value that fails
 * normalisation (an email without `@`, a phone libphonenumber-js cannot
 * parse) is left out of the record, never sent half-normalised, and never
 * fails the batch it is in. A value that already is a SHA-256 hex digest is
 * taken as hashed and not hashed again.
 */
import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export type Platform = 'google' | 'meta' | 'tiktok';

/** What we know of a person to match them with (raw values, as collected). */
export interface Contact {
  readonly email?: string | undefined;
  readonly phone?: string | undefined;
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly city?: string | undefined;
  /** State or region (US: the two-letter code or the name's code). */
  readonly state?: string | undefined;
  readonly postalCode?: string | undefined;
  /** ISO 3166-1 alpha-2 (any case). */
  readonly country?: string | undefined;
  /** `m`/`f`, or male/female in any case. */
  readonly gender?: string | undefined;
  /** `YYYY-MM-DD`. */
  readonly birthday?: string | undefined;
  /** A mobile advertising id (IDFA or GAID). */
  readonly madid?: string | undefined;
  /** Our id for the person (Meta EXTERN_ID). */
  readonly externalId?: string | undefined;
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** SHA-256 hex of `v`, or `v` (lower-cased) when it already is a SHA-256 hex digest. */
export function sha256(v: string): string {
  if (SHA256_HEX.test(v)) return v.toLowerCase();
  return createHash('sha256').update(v, 'utf8').digest('hex');
}

const isHashed = (v: string): boolean => SHA256_HEX.test(v.trim());

/** A raw value normalised by `rule`, or taken as it is when already hashed. */
const prepared = (
  raw: string | undefined,
  rule: (v: string) => string | undefined,
): string | undefined => (raw === undefined ? undefined : isHashed(raw) ? raw.trim() : rule(raw));

/** Email as Google wants it: lower case, no whitespace; for gmail.com and googlemail.com, no dots and no `+suffix` before the `@`. */
export function googleEmail(raw: string): string | undefined {
  const e = raw.replace(/\s+/g, '').toLowerCase();
  const at = e.lastIndexOf('@');
  if (at <= 0 || at === e.length - 1) return undefined;
  let local = e.slice(0, at);
  const domain = e.slice(at + 1);
  if (domain === 'gmail.com' || domain === 'googlemail.com') {
    const plus = local.indexOf('+');
    if (plus >= 0) local = local.slice(0, plus);
    local = local.replace(/\./g, '');
    if (local === '') return undefined;
  }
  return `${local}@${domain}`;
}

/** Email as Meta wants it: trimmed and lower-cased. */
export function metaEmail(raw: string): string | undefined {
  const e = raw.trim().toLowerCase();
  const at = e.lastIndexOf('@');
  return at > 0 && at < e.length - 1 ? e : undefined;
}

/** Email as TikTok wants it: lower case, no spaces. */
export function tiktokEmail(raw: string): string | undefined {
  const e = raw.replace(/\s+/g, '').toLowerCase();
  const at = e.lastIndexOf('@');
  return at > 0 && at < e.length - 1 ? e : undefined;
}

/**
 * A phone in E.164 (`+18005550100`), parsed with libphonenumber-js: `+` or
 * `00` starts an international number; otherwise the person's `country` is
 * the region of a national number, and without one the digits are read as
 * starting with a country code (`374-93-828222`). A number that is not a
 * possible one is undefined.
 */
export function e164(raw: string, country?: string): string | undefined {
  const v = raw.trim();
  const region =
    country && /^[a-z]{2}$/i.test(country.trim()) ? country.trim().toUpperCase() : undefined;
  const international = /^(\+|00)/.test(v);
  const p =
    international || region === undefined
      ? parsePhoneNumberFromString(international ? v.replace(/^00/, '+') : `+${v}`)
      : parsePhoneNumberFromString(v, { defaultCountry: region as CountryCode });
  if (!p || !p.isPossible()) return undefined;
  return p.number;
}

/** Meta and TikTok: the country code and number as digits only (no `+`, no leading zeros). */
export function digitsPhone(raw: string, country?: string): string | undefined {
  const n = e164(raw, country);
  return n === undefined ? undefined : n.slice(1).replace(/^0+/, '');
}

const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'madam']);
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'phd', 'md']);

/** Google names: lower case, trimmed, without a title (Mrs.) or a suffix (Jr.). */
export function googleName(raw: string, kind: 'first' | 'last'): string | undefined {
  const words = raw.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const drop = kind === 'first' ? TITLES : SUFFIXES;
  const at = kind === 'first' ? 0 : words.length - 1;
  const w = words[at];
  if (w !== undefined && drop.has(w.replace(/[.,]/g, ''))) words.splice(at, 1);
  const v = words.join(' ');
  return v === '' ? undefined : v;
}

/** Meta names and cities: lower case, letters only (accents kept), no punctuation or spaces. */
export function metaLetters(raw: string): string | undefined {
  const v = raw
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}]/gu, '');
  return v === '' ? undefined : v;
}

const country2 = (raw: string | undefined): string | undefined => {
  const c = raw?.trim().toLowerCase();
  return c && /^[a-z]{2}$/.test(c) ? c : undefined;
};

/** Meta ZIP: lower case, no spaces or dashes; a US ZIP is its first 5 digits. */
export function metaZip(raw: string, country?: string): string | undefined {
  const z = raw.toLowerCase().replace(/[\s-]/g, '');
  if (z === '') return undefined;
  if (country2(country) === 'us') return /^\d{5}/.test(z) ? z.slice(0, 5) : undefined;
  return z;
}

const gender = (raw: string | undefined): string | undefined => {
  const g = raw?.trim().toLowerCase();
  if (g === 'm' || g === 'male') return 'm';
  if (g === 'f' || g === 'female') return 'f';
  return undefined;
};

const birthday = (raw: string | undefined): [string, string, string] | undefined => {
  const m = raw?.trim().match(/^(\d{4})-(\d{2})-(\d{2})/);
  return m ? [m[1] as string, m[2] as string, m[3] as string] : undefined;
};

/** Google Customer Match / Data Manager user identifiers of one person. */
export interface GoogleIdentifiers {
  readonly emailAddress?: string;
  readonly phoneNumber?: string;
  readonly address?: {
    readonly givenName: string;
    readonly familyName: string;
    /** Not hashed. */
    readonly regionCode: string;
    /** Not hashed. */
    readonly postalCode: string;
  };
}

/** One person for Google: emails and phones hashed, an address only when complete (names hashed, region and postal code as they are). */
export function forGoogle(c: Contact): GoogleIdentifiers {
  const out: { -readonly [K in keyof GoogleIdentifiers]: GoogleIdentifiers[K] } = {};
  const email = prepared(c.email, googleEmail);
  if (email !== undefined) out.emailAddress = sha256(email);
  const phone = prepared(c.phone, (v) => e164(v, c.country));
  if (phone !== undefined) out.phoneNumber = sha256(phone);
  const given = c.firstName === undefined ? undefined : googleName(c.firstName, 'first');
  const family = c.lastName === undefined ? undefined : googleName(c.lastName, 'last');
  const region = country2(c.country)?.toUpperCase();
  const postal = c.postalCode?.trim();
  if (given && family && region && postal)
    out.address = {
      givenName: sha256(given),
      familyName: sha256(family),
      regionCode: region,
      postalCode: postal,
    };
  return out;
}

/** Meta's schema keys, in the order this module writes them. */
export const META_SCHEMA = [
  'EXTERN_ID',
  'EMAIL',
  'PHONE',
  'GEN',
  'DOBY',
  'DOBM',
  'DOBD',
  'LN',
  'FN',
  'FI',
  'CT',
  'ST',
  'ZIP',
  'MADID',
  'COUNTRY',
] as const;
export type MetaKey = (typeof META_SCHEMA)[number];

/** One person as Meta's row for `schema` (unknown values `""`; hashed except EXTERN_ID and MADID). */
export function forMeta(c: Contact, schema: readonly MetaKey[] = META_SCHEMA): string[] {
  const h = (v: string | undefined): string => (v === undefined ? '' : sha256(v));
  const dob = birthday(c.birthday);
  const fn = c.firstName === undefined ? undefined : metaLetters(c.firstName);
  const st = c.state
    ?.trim()
    .toLowerCase()
    .replace(/[^a-z]/g, '');
  const value: Record<MetaKey, string> = {
    EXTERN_ID: c.externalId ?? '',
    EMAIL: h(prepared(c.email, metaEmail)),
    PHONE: h(prepared(c.phone, (v) => digitsPhone(v, c.country))),
    GEN: h(gender(c.gender)),
    DOBY: h(dob?.[0]),
    DOBM: h(dob?.[1]),
    DOBD: h(dob?.[2]),
    LN: h(c.lastName === undefined ? undefined : metaLetters(c.lastName)),
    FN: h(fn),
    FI: h(fn?.slice(0, 1)),
    CT: h(c.city === undefined ? undefined : metaLetters(c.city)),
    ST: h(st && st.length === 2 ? st : undefined),
    ZIP: h(c.postalCode === undefined ? undefined : metaZip(c.postalCode, c.country)),
    MADID: c.madid?.trim().toLowerCase() ?? '',
    COUNTRY: h(country2(c.country)),
  };
  return schema.map((k) => value[k]);
}

/** TikTok audience API identifiers of one person (SHA-256 hex). */
export interface TiktokIdentifiers {
  readonly EMAIL_SHA256?: string;
  readonly PHONE_SHA256?: string;
  readonly IDFA_SHA256?: string;
  readonly GAID_SHA256?: string;
}

/** One person for TikTok: email lower case without spaces, phone digits with the country code, a mobile id lower-cased. */
export function forTiktok(c: Contact, madidKind?: 'idfa' | 'gaid'): TiktokIdentifiers {
  const out: { -readonly [K in keyof TiktokIdentifiers]: TiktokIdentifiers[K] } = {};
  const email = prepared(c.email, tiktokEmail);
  if (email !== undefined) out.EMAIL_SHA256 = sha256(email);
  const phone = prepared(c.phone, (v) => digitsPhone(v, c.country));
  if (phone !== undefined) out.PHONE_SHA256 = sha256(phone);
  const madid = c.madid?.trim().toLowerCase();
  if (madid) out[madidKind === 'idfa' ? 'IDFA_SHA256' : 'GAID_SHA256'] = sha256(madid);
  return out;
}

/** The rules above with their sources, as the docs show them. */
export const RULES: ReadonlyArray<{
  platform: Platform;
  field: string;
  rule: string;
  hashed: boolean;
  source: string;
}> = [
  {
    platform: 'google',
    field: 'email',
    rule: 'lower case, all whitespace removed; gmail.com / googlemail.com: dots and a +suffix before the @ removed',
    hashed: true,
    source: 'https://developers.google.com/data-manager/api/devguides/concepts/formatting',
  },
  {
    platform: 'google',
    field: 'phone',
    rule: 'E.164: + and the country code, digits only',
    hashed: true,
    source: 'https://developers.google.com/data-manager/api/devguides/concepts/formatting',
  },
  {
    platform: 'google',
    field: 'given / family name',
    rule: 'lower case, trimmed, no title (Mrs.) or suffix (Jr.)',
    hashed: true,
    source: 'https://developers.google.com/data-manager/api/devguides/concepts/formatting',
  },
  {
    platform: 'google',
    field: 'region code, postal code',
    rule: 'ISO alpha-2 region; postal code as given (trimmed); sent only with both names',
    hashed: false,
    source: 'https://developers.google.com/data-manager/api/devguides/concepts/formatting',
  },
  {
    platform: 'meta',
    field: 'EMAIL',
    rule: 'trimmed, lower case',
    hashed: true,
    source:
      'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash',
  },
  {
    platform: 'meta',
    field: 'PHONE',
    rule: 'digits only with the country code: no +, symbols, letters or leading zeros',
    hashed: true,
    source:
      'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash',
  },
  {
    platform: 'meta',
    field: 'FN, LN, FI, CT',
    rule: 'lower case letters only (accents kept), no punctuation or spaces; FI the first letter of FN',
    hashed: true,
    source:
      'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash',
  },
  {
    platform: 'meta',
    field: 'ST, ZIP, COUNTRY',
    rule: 'ST two lower-case letters; ZIP lower case without spaces or dashes, US its first 5 digits; COUNTRY ISO alpha-2 lower case',
    hashed: true,
    source:
      'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash',
  },
  {
    platform: 'meta',
    field: 'GEN, DOBY, DOBM, DOBD',
    rule: 'm or f; YYYY; MM; DD',
    hashed: true,
    source:
      'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash',
  },
  {
    platform: 'meta',
    field: 'MADID, EXTERN_ID',
    rule: 'MADID lower case with its hyphens; EXTERN_ID as is',
    hashed: false,
    source:
      'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash',
  },
  {
    platform: 'tiktok',
    field: 'EMAIL_SHA256',
    rule: 'lower case, no spaces',
    hashed: true,
    source:
      'https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file',
  },
  {
    platform: 'tiktok',
    field: 'PHONE_SHA256',
    rule: 'digits with the country code: no +, symbols or leading zeros (their example: 37493828222)',
    hashed: true,
    source:
      'https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file',
  },
  {
    platform: 'tiktok',
    field: 'IDFA_SHA256, GAID_SHA256',
    rule: 'one consistent case (lower), trimmed',
    hashed: true,
    source:
      'https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file',
  },
];
