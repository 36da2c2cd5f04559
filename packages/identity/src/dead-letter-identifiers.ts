/**
 * The identifiers a dead letter holds, as hashes: so that a GDPR delete or
 * export finds a person's refused events (`events_invalid`) without the
 * table or a mutation naming an identifier in clear. A dead letter's payload
 * is what ingest received: a Segment call or batch (JSON, maybe cut short),
 * or a pixel's query string. Pure.
 */
import { extractIdentifiers } from './extract.js';
import { sha256Hex } from './hash.js';
import { HASHED_IDENTIFIER_TYPES, type Identifier } from './identifier.js';
import { normaliseIdentifier } from './normalise.js';
import { DEFAULT_IDENTITY_RULES, type IdentityRules } from './rules.js';

/**
 * The hash the audit trail and dead letters know an identifier by: the
 * stored value for types stored hashed (email, phone), else SHA-256 hex.
 */
export function identifierHash(identifier: Identifier): string {
  return HASHED_IDENTIFIER_TYPES.has(identifier.type)
    ? identifier.value
    : sha256Hex(identifier.value);
}

/** Field names (JSON keys or query parameters) whose value is an identifier of this type. */
const FIELDS: Readonly<Record<string, string>> = {
  userId: 'user_id',
  anonymousId: 'anonymous_id',
  previousId: 'user_id',
  email: 'email',
  phone: 'phone',
  't.email': 'email',
  't.phone': 'phone',
};

/** `"name":"value"` anywhere in a (maybe cut, maybe invalid) JSON text. */
const JSON_FIELD = /"(userId|anonymousId|previousId|email|phone)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)/g;

/** Hashes of every identifier found in a dead letter's payload (deduplicated). */
export function deadLetterIdentifierHashes(
  payload: string,
  rules: IdentityRules = DEFAULT_IDENTITY_RULES,
): string[] {
  const out = new Set<string>();
  const add = (type: string, raw: unknown): void => {
    const res = normaliseIdentifier(type, raw, rules);
    if (res.ok) out.add(identifierHash(res.identifier));
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && typeof parsed === 'object') {
    const batch = (parsed as { batch?: unknown }).batch;
    const calls = Array.isArray(parsed) ? parsed : Array.isArray(batch) ? batch : [parsed];
    for (const call of calls) {
      if (call === null || typeof call !== 'object') continue;
      const { identifiers } = extractIdentifiers({ event: call }, rules);
      for (const i of identifiers) out.add(identifierHash(i));
      add('user_id', (call as { previousId?: unknown }).previousId);
    }
  }
  // Cut or malformed JSON, and values the extractor refused to link (too
  // long, junk) but which are still the person's data.
  for (const m of payload.matchAll(JSON_FIELD)) {
    const [, name, literal] = m;
    let value: unknown;
    try {
      value = JSON.parse(literal as string);
    } catch {
      continue;
    }
    add(FIELDS[name as string] as string, value);
  }
  // A pixel or redirect query string (the path's `?` onwards, or the whole).
  const q = payload.includes('?') ? payload.slice(payload.indexOf('?') + 1) : payload;
  if (q.includes('=') && !q.trimStart().startsWith('{')) {
    for (const [k, v] of new URLSearchParams(q)) {
      const type = FIELDS[k];
      if (type !== undefined) add(type, v);
      if (k === 'traits' || k === 't') {
        for (const m of v.matchAll(JSON_FIELD)) {
          try {
            add(FIELDS[m[1] as string] as string, JSON.parse(m[2] as string));
          } catch {
            // not a JSON string: nothing to find
          }
        }
      }
    }
  }
  return [...out].sort();
}
