/**
 * One person as each ad platform's upload record, built from what the CDP
 * knows of them: their identifiers (emails and phones are stored as SHA-256
 * of the trimmed, lower-cased email and of the E.164 phone, see
 * @cdp/identity) and their latest identify traits (raw values, Segment's
 * spec names: `email`, `phone`, `firstName`/`first_name`, `lastName`,
 * `address.{city,state,postalCode,country}`, `gender`, `birthday`).
 *
 * A raw trait is normalised the platform's way; a stored hash is sent as it
 * is only where its normalisation is the platform's (emails everywhere but
 * gmail dots for Google; E.164 phones for Google only). A person with
 * nothing a platform can match on has no record (`undefined`): they are
 * skipped, never sent as an empty row, and never fail the batch.
 */
import {
  forGoogle,
  forMeta,
  forTiktok,
  META_SCHEMA,
  sha256,
  type Contact,
  type MetaKey,
} from './normalize.js';

export interface PersonData {
  readonly personId: string;
  readonly identifiers: readonly { readonly type: string; readonly value: string }[];
  readonly traits: Readonly<Record<string, unknown>>;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== ''
    ? v
    : typeof v === 'number' && Number.isFinite(v)
      ? String(v)
      : undefined;

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The person's contact from their traits (raw values as collected). */
export function contactOf(p: PersonData): Contact {
  const t = p.traits;
  const a = obj(t['address']);
  return {
    email: text(t['email']),
    phone: text(t['phone']),
    firstName: text(t['firstName'] ?? t['first_name']),
    lastName: text(t['lastName'] ?? t['last_name']),
    city: text(a['city'] ?? t['city']),
    state: text(a['state'] ?? t['state']),
    postalCode: text(a['postalCode'] ?? a['postal_code'] ?? t['postalCode'] ?? t['zip']),
    country: text(a['country'] ?? t['country']),
    gender: text(t['gender']),
    birthday: text(t['birthday']),
    madid: text(t['advertisingId'] ?? t['madid']),
    externalId: p.personId,
  };
}

const hashesOf = (p: PersonData, type: 'email' | 'phone'): string[] =>
  p.identifiers
    .filter((i) => i.type === type && /^[0-9a-f]{64}$/i.test(i.value))
    .map((i) => i.value.toLowerCase());

const uniq = <T>(xs: readonly T[], key: (x: T) => string): T[] => {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

/** Data Manager `UserIdentifier`s (at most 10: Google's limit per member). */
export type GoogleUserIdentifier =
  | { readonly emailAddress: string }
  | { readonly phoneNumber: string }
  | {
      readonly address: {
        readonly givenName: string;
        readonly familyName: string;
        readonly regionCode: string;
        readonly postalCode: string;
      };
    };

export const GOOGLE_MAX_IDENTIFIERS = 10;

/** A person as a Data Manager `AudienceMember` (`undefined`: nothing to match on). */
export function googleMember(
  p: PersonData,
): { userData: { userIdentifiers: GoogleUserIdentifier[] } } | undefined {
  const g = forGoogle(contactOf(p));
  const ids: GoogleUserIdentifier[] = [];
  if (g.emailAddress) ids.push({ emailAddress: g.emailAddress });
  for (const h of hashesOf(p, 'email')) ids.push({ emailAddress: h });
  if (g.phoneNumber) ids.push({ phoneNumber: g.phoneNumber });
  for (const h of hashesOf(p, 'phone')) ids.push({ phoneNumber: h });
  if (g.address) ids.push({ address: g.address });
  const out = uniq(ids, (x) => JSON.stringify(x)).slice(0, GOOGLE_MAX_IDENTIFIERS);
  return out.length === 0 ? undefined : { userData: { userIdentifiers: out } };
}

/** Google Ads API `UserIdentifier`s of one `UserData` (one person per UserData; at most 20). */
export type GoogleAdsUserIdentifier =
  | { readonly hashedEmail: string }
  | { readonly hashedPhoneNumber: string }
  | {
      readonly addressInfo: {
        readonly hashedFirstName: string;
        readonly hashedLastName: string;
        readonly countryCode: string;
        readonly postalCode: string;
      };
    };

export const GOOGLE_ADS_MAX_IDENTIFIERS = 20;

/** A person as a Google Ads `UserData` (`undefined`: nothing to match on). */
export function googleAdsUserData(
  p: PersonData,
): { userIdentifiers: GoogleAdsUserIdentifier[] } | undefined {
  const m = googleMember(p);
  if (!m) return undefined;
  const ids = m.userData.userIdentifiers.map((i): GoogleAdsUserIdentifier => {
    if ('emailAddress' in i) return { hashedEmail: i.emailAddress };
    if ('phoneNumber' in i) return { hashedPhoneNumber: i.phoneNumber };
    return {
      addressInfo: {
        hashedFirstName: i.address.givenName,
        hashedLastName: i.address.familyName,
        countryCode: i.address.regionCode,
        postalCode: i.address.postalCode,
      },
    };
  });
  return { userIdentifiers: ids.slice(0, GOOGLE_ADS_MAX_IDENTIFIERS) };
}

/** Meta keys a match can be made on (the rest only help a match). */
const META_MATCH_KEYS: ReadonlySet<MetaKey> = new Set(['EMAIL', 'PHONE', 'MADID', 'LN', 'FN']);

/**
 * A person as a Meta custom audience row for `schema` (with LOOKALIKE_VALUE
 * last when `value` is given; unknown values `""`); `undefined` when none of
 * EMAIL, PHONE, MADID or a name is known. A stored email hash stands in for
 * a missing raw email (same normalisation); a stored phone hash cannot
 * (Meta hashes digits without `+`).
 */
export function metaRow(
  p: PersonData,
  schema: readonly MetaKey[] = META_SCHEMA,
  value?: number,
): string[] | undefined {
  const c = contactOf(p);
  const row = forMeta(c, schema);
  const emailAt = schema.indexOf('EMAIL');
  const stored = hashesOf(p, 'email')[0];
  if (emailAt >= 0 && row[emailAt] === '' && stored) row[emailAt] = stored;
  const matchable = schema.some((k, i) => META_MATCH_KEYS.has(k) && row[i] !== '');
  if (!matchable) return undefined;
  if (value !== undefined) row.push(String(Math.max(0, Math.round(value * 100) / 100)));
  return row;
}

export type TiktokIdType = 'EMAIL_SHA256' | 'PHONE_SHA256' | 'IDFA_SHA256' | 'GAID_SHA256';

/** A person's TikTok ids by type (a stored email hash stands in for a missing raw email). */
export function tiktokIds(p: PersonData): Partial<Record<TiktokIdType, string>> {
  const c = contactOf(p);
  const ids: Partial<Record<TiktokIdType, string>> = { ...forTiktok(c) };
  const stored = hashesOf(p, 'email')[0];
  if (ids.EMAIL_SHA256 === undefined && stored) ids.EMAIL_SHA256 = sha256(stored);
  return ids;
}
