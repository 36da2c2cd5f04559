import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { sha256Hex } from './hash.js';
import {
  isBuiltinIdentifierType,
  isIdentifierType,
  type Identifier,
  type IdentifierType,
} from './identifier.js';
import { junkReason } from './junk.js';
import type { JunkReason, RejectReason } from './reason-codes.js';
import { compileRules, DEFAULT_IDENTITY_RULES, type IdentityRules } from './rules.js';

/** The result of normalising one value: an identifier, or why there is none. */
export type NormaliseResult =
  | { readonly ok: true; readonly identifier: Identifier }
  | { readonly ok: false; readonly reason: RejectReason; readonly junk: boolean };

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;
const NON_ZERO_DIGIT = /[1-9]/;

/**
 * Normalises a raw value of an identifier type into its stored form, as the
 * graph, the stampers and the lookup API (`GET /v1/persons/lookup?type=&value=`)
 * must all do it:
 *
 * - every type: numbers become strings, other non-strings are `invalid_type`;
 *   values over `maxValueLength` are `value_too_long`; junk (see `junkReason`)
 *   and block-listed values are refused with their junk reason.
 * - `email`: trimmed and lower-cased, must look like `local@domain`, stored as
 *   SHA-256 hex.
 * - `phone`: parsed with libphonenumber-js (`defaultRegion` for national
 *   formats, `00`/`+` international prefixes understood), checked per
 *   `phoneValidation`, formatted E.164 (`+442079460958`), stored as SHA-256 hex.
 * - everything else: stored as given (no trimming, case kept).
 *
 * `type` may be given in any case (`External:Shopee_Buyer_ID` works).
 */
export function normaliseIdentifier(
  type: string,
  raw: unknown,
  rules: IdentityRules = DEFAULT_IDENTITY_RULES,
): NormaliseResult {
  const t = canonicalType(type);
  if (t === undefined) return { ok: false, reason: 'identifier_type_unknown', junk: false };
  let value: string;
  if (typeof raw === 'string') value = raw;
  else if (typeof raw === 'number' && Number.isFinite(raw)) value = String(raw);
  else if (typeof raw === 'bigint') value = raw.toString();
  else return { ok: false, reason: 'invalid_type', junk: false };
  return normaliseString(t, value, rules);
}

/** {@link normaliseIdentifier} for a known type and a string value (the hot path). */
export function normaliseString(
  type: IdentifierType,
  value: string,
  rules: IdentityRules,
): NormaliseResult {
  if (value.length > rules.maxValueLength)
    return { ok: false, reason: 'value_too_long', junk: false };
  const compiled = compileRules(rules);
  const junk = junkReason(value, compiled.blocked);
  if (junk !== undefined) return junkResult(junk);
  if (type === 'email') {
    const email = value.trim().toLowerCase();
    if (!EMAIL_SHAPE.test(email)) return { ok: false, reason: 'email_invalid', junk: false };
    return { ok: true, identifier: { type, value: sha256Hex(email) } };
  }
  if (type === 'phone') {
    const parsed = parsePhoneNumberFromString(
      value.trim(),
      rules.defaultRegion === undefined ? {} : { defaultCountry: rules.defaultRegion },
    );
    if (parsed === undefined) return { ok: false, reason: 'phone_unparseable', junk: false };
    if (!NON_ZERO_DIGIT.test(parsed.nationalNumber)) return junkResult('junk_zeros');
    const ok = rules.phoneValidation === 'valid' ? parsed.isValid() : parsed.isPossible();
    if (!ok) return { ok: false, reason: 'phone_invalid', junk: false };
    const e164 = parsed.number;
    if (compiled.blocked.size > 0 && compiled.blocked.has(e164))
      return junkResult('junk_block_list');
    return { ok: true, identifier: { type, value: sha256Hex(e164) } };
  }
  return { ok: true, identifier: { type, value } };
}

function junkResult(reason: JunkReason): NormaliseResult {
  return { ok: false, reason, junk: true };
}

function canonicalType(type: string): IdentifierType | undefined {
  if (isBuiltinIdentifierType(type)) return type;
  const t = type.trim().toLowerCase();
  return isIdentifierType(t) ? t : undefined;
}
