import { CdpError } from '@cdp/core';
import {
  identifierKey,
  normaliseIdentifier,
  type Identifier,
  type IdentityRules,
  type RejectReason,
} from '@cdp/identity';

/** Most identifiers one split request may move. */
export const MAX_SPLIT_IDENTIFIERS = 100;

/** Events in a person's answer unless `?events=` says otherwise. */
export const DEFAULT_PERSON_EVENTS = 20;

/** Most events `?events=` may ask for (the export has them all). */
export const MAX_PERSON_EVENTS = 1000;

const TYPES_HINT = 'user_id, anonymous_id, device_id, email, phone or external:<name>';

/** What each refusal means, for the error message (the code itself is in parentheses). */
const REASON_TEXT: Readonly<Record<RejectReason, string>> = {
  junk_empty: 'the value is empty',
  junk_placeholder:
    'the value is a placeholder (such as "null", "undefined" or "0") that never identifies anyone',
  junk_zeros: 'the value is only zeros and dashes, which never identifies anyone',
  junk_block_list: 'the value is on the block list',
  invalid_type: 'the value must be a string',
  value_too_long: 'the value is too long',
  email_invalid: 'not an email address (local@domain)',
  phone_unparseable: 'not a phone number (give it in international format, +44 20 7946 0958)',
  phone_invalid: 'not a valid phone number for its region',
  identifier_type_unknown: `unknown identifier type (use ${TYPES_HINT})`,
  external_collection_ignored: 'external ids of this collection are ignored',
  external_type_ignored: 'this external id type is ignored',
  not_hashed: 'email and phone must be given in clear: the server hashes them',
};

const invalid = (field: string, message: string): CdpError =>
  new CdpError('CDP_ERR_IDENTITY_INVALID_IDENTIFIER', { field, message });

/**
 * Normalises one `(type, value)` pair as the resolver does (email and phone
 * hashed here, on the server), or throws `CDP_ERR_IDENTITY_INVALID_IDENTIFIER`
 * naming `<prefix>type` or `<prefix>value` and the reason.
 */
export function parseIdentifier(
  type: unknown,
  value: unknown,
  rules: IdentityRules,
  fieldPrefix = '',
): Identifier {
  if (typeof type !== 'string' || type.trim() === '')
    throw invalid(`${fieldPrefix}type`, `type is required: ${TYPES_HINT}`);
  if (value === undefined || value === null)
    throw invalid(`${fieldPrefix}value`, 'value is required');
  const r = normaliseIdentifier(type, value, rules);
  if (r.ok) return r.identifier;
  const field = r.reason === 'identifier_type_unknown' ? 'type' : 'value';
  throw invalid(`${fieldPrefix}${field}`, `${REASON_TEXT[r.reason]} (${r.reason})`);
}

/**
 * Reads a split request body, `{"identifiers": [{"type", "value"}, ...]}`:
 * every entry normalised, duplicates (after normalisation) dropped. Throws
 * the first problem with the entry's path as field (`identifiers[1].value`).
 */
export function parseSplitBody(body: Record<string, unknown>, rules: IdentityRules): Identifier[] {
  for (const k of Object.keys(body)) {
    if (k !== 'identifiers')
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: k,
        message: `Unknown field ${k} (allowed: identifiers)`,
      });
  }
  const list = body['identifiers'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SPLIT_IDENTIFIERS)
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field: 'identifiers',
      message: `identifiers must be an array of 1 to ${MAX_SPLIT_IDENTIFIERS} {"type", "value"} objects`,
    });
  const out = new Map<string, Identifier>();
  list.forEach((entry: unknown, i) => {
    const at = `identifiers[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: at,
        message: `${at} must be an object {"type", "value"}`,
      });
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (k !== 'type' && k !== 'value')
        throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
          field: `${at}.${k}`,
          message: `Unknown field ${at}.${k} (allowed: type, value)`,
        });
    }
    const id = parseIdentifier(e['type'], e['value'], rules, `${at}.`);
    out.set(identifierKey(id), id);
  });
  return [...out.values()];
}

/** `?events=`: an integer from 0 to {@link MAX_PERSON_EVENTS}, default {@link DEFAULT_PERSON_EVENTS}. */
export function parseEventsLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return DEFAULT_PERSON_EVENTS;
  const n = typeof raw === 'string' && /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PERSON_EVENTS)
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field: 'events',
      message: `events must be an integer from 0 to ${MAX_PERSON_EVENTS}`,
    });
  return n;
}
