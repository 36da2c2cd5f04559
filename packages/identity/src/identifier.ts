/** The identifier types every event can carry, in no particular order. */
export const BUILTIN_IDENTIFIER_TYPES = [
  'user_id',
  'anonymous_id',
  'device_id',
  'email',
  'phone',
] as const;

/** A built-in identifier type. */
export type BuiltinIdentifierType = (typeof BUILTIN_IDENTIFIER_TYPES)[number];

/**
 * A platform id from `context.externalIds[]`: `external:<type>`, where `<type>`
 * is the external id's type lower-cased (`external:shopee_buyer_id`,
 * `external:wechat_open_id`). See {@link EXTERNAL_TYPE_PATTERN}.
 */
export type ExternalIdentifierType = `external:${string}`;

/** Every identifier type. */
export type IdentifierType = BuiltinIdentifierType | ExternalIdentifierType;

/**
 * A normalised identifier as the graph stores it. `value` is the stored form:
 * the raw id for `user_id`, `anonymous_id`, `device_id` and external ids, and
 * the lower-case SHA-256 hex of the normalised value for `email` and `phone`.
 * Build one with `normaliseIdentifier` (or `extractIdentifiers`), never by hand
 * from a raw email or phone.
 */
export interface Identifier {
  readonly type: IdentifierType;
  readonly value: string;
}

/** Types stored only as SHA-256 hex of their normalised value. */
export const HASHED_IDENTIFIER_TYPES: ReadonlySet<IdentifierType> = new Set<IdentifierType>([
  'email',
  'phone',
]);

/** The prefix of external identifier types. */
export const EXTERNAL_PREFIX = 'external:';

/**
 * What an external id's type may look like once lower-cased: a letter or
 * digit, then letters, digits, `_`, `.` or `-`, at most 64 characters. No `:`,
 * so an identifier key splits unambiguously.
 */
export const EXTERNAL_TYPE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

const HEX64 = /^[0-9a-f]{64}$/;

/** Whether `type` is a built-in type. */
export function isBuiltinIdentifierType(type: string): type is BuiltinIdentifierType {
  switch (type) {
    case 'user_id':
    case 'anonymous_id':
    case 'device_id':
    case 'email':
    case 'phone':
      return true;
    default:
      return false;
  }
}

/** Whether `type` is a valid identifier type (built-in, or `external:` plus a valid name). */
export function isIdentifierType(type: string): type is IdentifierType {
  if (isBuiltinIdentifierType(type)) return true;
  return (
    type.startsWith(EXTERNAL_PREFIX) &&
    EXTERNAL_TYPE_PATTERN.test(type.slice(EXTERNAL_PREFIX.length))
  );
}

/** Whether `value` has the stored form of a hashed type: 64 lower-case hex digits. */
export function isSha256Hex(value: string): boolean {
  return value.length === 64 && HEX64.test(value);
}

/** The graph's key for an identifier: `<type>:<stored value>`. */
export function identifierKey(identifier: Identifier): string {
  return `${identifier.type}:${identifier.value}`;
}

/**
 * The identifier behind a key from {@link identifierKey}. Built-in types hold
 * no `:` and external type names may not, so the type ends at the first `:`
 * (the second, for `external:`).
 */
export function parseIdentifierKey(key: string): Identifier {
  const from = key.startsWith(EXTERNAL_PREFIX) ? EXTERNAL_PREFIX.length : 0;
  const colon = key.indexOf(':', from);
  return { type: key.slice(0, colon) as IdentifierType, value: key.slice(colon + 1) };
}
