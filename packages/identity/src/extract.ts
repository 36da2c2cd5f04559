import {
  EXTERNAL_PREFIX,
  EXTERNAL_TYPE_PATTERN,
  identifierKey,
  type Identifier,
  type IdentifierType,
} from './identifier.js';
import { countJunk } from './junk.js';
import { normaliseString } from './normalise.js';
import type { JunkCounts, JunkReason, RejectReason } from './reason-codes.js';
import { compileRules, DEFAULT_IDENTITY_RULES, type IdentityRules } from './rules.js';

/**
 * The parts of a `cdp.events.raw` message extraction reads (see
 * `schemas/topics/events-raw.json`): the call type and the Segment call in
 * `event`. Everything is read defensively; nothing is assumed well-typed.
 */
export interface RawEventMessage {
  readonly type?: unknown;
  readonly event?: unknown;
}

/** A value that did not become an identifier, with the field it came from. */
export interface Rejection {
  /** Where the value was, e.g. `event.context.traits.phone`, `event.context.externalIds[2].id`. */
  readonly field: string;
  /** The identifier type it would have had, when known. */
  readonly type: IdentifierType | undefined;
  readonly reason: RejectReason;
}

/** The identifiers of one event, normalised, and everything that was refused. */
export interface ExtractedIdentifiers {
  /**
   * Distinct identifiers in extraction order: `userId`, external ids (in array
   * order), emails, phones (`traits` before `context.traits`), `context.device.id`,
   * `anonymousId`. Among identifiers of equal priority, earlier ones win.
   */
  readonly identifiers: readonly Identifier[];
  /**
   * The `previousId` of an alias call when it differs from the call's
   * `anonymousId` and `userId`; the graph decides its type (see `ResolveInput`).
   */
  readonly previousId: string | undefined;
  /** Every value that was present but is not an identifier (junk included). */
  readonly rejected: readonly Rejection[];
  /** The junk among `rejected`, counted per reason. */
  readonly junk: JunkCounts;
}

/** External id types that map onto built-in types (and are normalised like them). */
const BUILTIN_EXTERNAL_TYPES: ReadonlyMap<string, IdentifierType> = new Map<string, IdentifierType>(
  [
    ['user_id', 'user_id'],
    ['anonymous_id', 'anonymous_id'],
    ['device_id', 'device_id'],
    ['email', 'email'],
    ['phone', 'phone'],
  ],
);

/**
 * Extracts and normalises the identifiers of a `cdp.events.raw` message:
 *
 * - `event.userId` -> `user_id`; `event.anonymousId` -> `anonymous_id`;
 *   `event.context.device.id` -> `device_id`;
 * - `email` and `phone` from `event.traits` and `event.context.traits`;
 * - `event.context.externalIds[]` `{id, type, collection?, encoding?}` ->
 *   `external:<type lower-cased>`. Entries whose `collection` is not `users`
 *   are ignored (an `accounts` id names a company, and would weld its staff
 *   together). Types `user_id`, `anonymous_id`, `device_id`, `email` and `phone`
 *   without an `encoding` (or `none`) become those built-in types, so an email
 *   sent as an external id is hashed like any other.
 * - the `previousId` of an alias call, returned apart (its type is decided by
 *   the graph).
 *
 * `null` and absent fields are simply absent; every other unusable value is in
 * `rejected` with its field and reason, and junk is counted in `junk`.
 */
export function extractIdentifiers(
  message: RawEventMessage,
  rules: IdentityRules = DEFAULT_IDENTITY_RULES,
): ExtractedIdentifiers {
  const out = new Collector(rules);
  const call = asRecord(message.event);
  if (call === undefined) return out.result(undefined);
  const context = asRecord(call['context']);
  const traits = asRecord(call['traits']);
  const contextTraits = asRecord(context?.['traits']);

  out.add('user_id', call['userId'], 'event.userId');
  const externalIds = context?.['externalIds'];
  if (Array.isArray(externalIds)) {
    externalIds.forEach((entry: unknown, i) =>
      out.external(entry, `event.context.externalIds[${i}]`),
    );
  }
  out.add('email', traits?.['email'], 'event.traits.email');
  out.add('email', contextTraits?.['email'], 'event.context.traits.email');
  out.add('phone', traits?.['phone'], 'event.traits.phone');
  out.add('phone', contextTraits?.['phone'], 'event.context.traits.phone');
  out.add('device_id', asRecord(context?.['device'])?.['id'], 'event.context.device.id');
  out.add('anonymous_id', call['anonymousId'], 'event.anonymousId');

  const callType = message.type ?? call['type'];
  let previousId: string | undefined;
  if (callType === 'alias') {
    const prev = call['previousId'];
    const same = prev === call['anonymousId'] || prev === call['userId'];
    if (!same) previousId = out.previousId(prev);
  }
  return out.result(previousId);
}

class Collector {
  readonly identifiers: Identifier[] = [];
  readonly rejected: Rejection[] = [];
  readonly junk: Partial<Record<JunkReason, number>> = {};
  private readonly keys = new Set<string>();

  constructor(private readonly rules: IdentityRules) {}

  add(type: IdentifierType, raw: unknown, field: string): void {
    const value = asIdString(raw);
    if (value === null) return;
    if (value === undefined) {
      this.rejected.push({ field, type, reason: 'invalid_type' });
      return;
    }
    const res = normaliseString(type, value, this.rules);
    if (!res.ok) {
      this.reject(field, type, res.reason, res.junk);
      return;
    }
    const key = identifierKey(res.identifier);
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.identifiers.push(res.identifier);
  }

  external(entry: unknown, field: string): void {
    const e = asRecord(entry);
    if (e === undefined) {
      if (entry !== null && entry !== undefined)
        this.rejected.push({ field, type: undefined, reason: 'invalid_type' });
      return;
    }
    const rawType = e['type'];
    const name = typeof rawType === 'string' ? rawType.trim().toLowerCase() : '';
    if (!EXTERNAL_TYPE_PATTERN.test(name)) {
      this.rejected.push({
        field: `${field}.type`,
        type: undefined,
        reason: 'identifier_type_unknown',
      });
      return;
    }
    const collection = e['collection'];
    if (collection !== undefined && collection !== null && !isText(collection, 'users')) {
      this.rejected.push({
        field: `${field}.collection`,
        type: `${EXTERNAL_PREFIX}${name}`,
        reason: 'external_collection_ignored',
      });
      return;
    }
    const encoding = e['encoding'];
    const plain = encoding === undefined || encoding === null || isText(encoding, 'none');
    const type: IdentifierType =
      (plain ? BUILTIN_EXTERNAL_TYPES.get(name) : undefined) ?? `${EXTERNAL_PREFIX}${name}`;
    if (compileRules(this.rules).ignoredExternal.has(name)) {
      this.rejected.push({ field: `${field}.type`, type, reason: 'external_type_ignored' });
      return;
    }
    this.add(type, e['id'], `${field}.id`);
  }

  previousId(raw: unknown): string | undefined {
    const field = 'event.previousId';
    const value = asIdString(raw);
    if (value === null) return undefined;
    if (value === undefined) {
      this.rejected.push({ field, type: undefined, reason: 'invalid_type' });
      return undefined;
    }
    // Checked as a raw id (user_id and anonymous_id are stored alike).
    const res = normaliseString('anonymous_id', value, this.rules);
    if (!res.ok) {
      this.reject(field, undefined, res.reason, res.junk);
      return undefined;
    }
    return value;
  }

  reject(
    field: string,
    type: IdentifierType | undefined,
    reason: RejectReason,
    junk: boolean,
  ): void {
    this.rejected.push({ field, type, reason });
    if (junk) countJunk(this.junk, reason as JunkReason);
  }

  result(previousId: string | undefined): ExtractedIdentifiers {
    return { identifiers: this.identifiers, previousId, rejected: this.rejected, junk: this.junk };
  }
}

/** Whether `v` is the string `text`, in any case. */
function isText(v: unknown, text: string): boolean {
  return typeof v === 'string' && v.trim().toLowerCase() === text;
}

function asRecord(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Readonly<Record<string, unknown>>)
    : undefined;
}

/** The id as a string; `null` when absent (`undefined`/`null`), `undefined` when not usable as an id. */
function asIdString(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
