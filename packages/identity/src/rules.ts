import { CdpError } from '@cdp/core';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import {
  BUILTIN_IDENTIFIER_TYPES,
  EXTERNAL_PREFIX,
  EXTERNAL_TYPE_PATTERN,
  isBuiltinIdentifierType,
  type IdentifierType,
} from './identifier.js';

/** The wildcard that stands for every external type without an entry of its own. */
export const EXTERNAL_WILDCARD = 'external:*';

/** How strictly phone numbers are checked after parsing. */
export type PhoneValidation = 'valid' | 'possible';

/**
 * Matching and normalisation rules, validated and frozen by
 * {@link createIdentityRules}. Shared by extraction, normalisation, stampers
 * and the graph, so that every part normalises and ranks identically.
 */
export interface IdentityRules {
  /**
   * Most identifiers of a type one person may hold. Keys: the built-in types,
   * `external:*` (each external type without an entry of its own) and
   * `external:<name>`. `user_id` is always 1: two user ids are two people.
   */
  readonly limits: Readonly<Record<string, number>>;
  /**
   * Identifier types from most to least trusted: every built-in type and
   * `external:*` exactly once, optionally `external:<name>` entries that rank
   * a platform apart from the others. Decides which identifiers of an event
   * are kept when a link would break a limit, and which one names a new person.
   */
  readonly priority: readonly string[];
  /** Region for phone numbers written without a country code (`020 7946 0958` with `GB`). */
  readonly defaultRegion: CountryCode | undefined;
  /** `valid`: the number must match its region's number plan; `possible`: only its length is checked. */
  readonly phoneValidation: PhoneValidation;
  /** Values that never link anything, compared trimmed and case-insensitively, for every type. */
  readonly blockList: readonly string[];
  /** Longest value accepted, in UTF-16 code units; longer values are rejected with `value_too_long`. */
  readonly maxValueLength: number;
  /** External id types (the name after `external:`) that are ignored. */
  readonly ignoredExternalTypes: readonly string[];
}

/** Overrides of the defaults; `limits` entries are merged over the default limits. */
export interface IdentityRulesInput {
  readonly limits?: Readonly<Record<string, number>>;
  readonly priority?: readonly string[];
  readonly defaultRegion?: string | undefined;
  readonly phoneValidation?: PhoneValidation;
  readonly blockList?: readonly string[];
  readonly maxValueLength?: number;
  readonly ignoredExternalTypes?: readonly string[];
}

/** The default per-person limits. */
export const DEFAULT_LIMITS: Readonly<Record<string, number>> = Object.freeze({
  user_id: 1,
  email: 5,
  phone: 5,
  device_id: 20,
  anonymous_id: 100,
  [EXTERNAL_WILDCARD]: 5,
});

/** The default priority, most trusted first. */
export const DEFAULT_PRIORITY: readonly string[] = Object.freeze([
  'user_id',
  EXTERNAL_WILDCARD,
  'email',
  'phone',
  'device_id',
  'anonymous_id',
]);

/** The default longest value: 1,024 characters. */
export const DEFAULT_MAX_VALUE_LENGTH = 1024;

const RULE_KEYS = new Set([
  'limits',
  'priority',
  'defaultRegion',
  'phoneValidation',
  'blockList',
  'maxValueLength',
  'ignoredExternalTypes',
]);

/**
 * Validates `input`, applies the defaults and freezes the result. Every
 * problem is reported at once in one `CDP_ERR_CONFIG_INVALID` error; unknown
 * keys are refused.
 */
export function createIdentityRules(input: IdentityRulesInput = {}): IdentityRules {
  const problems: string[] = [];
  const raw = input as Readonly<Record<string, unknown>>;
  if (typeof input !== 'object' || input === null) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: 'identity rules: expected an object',
    });
  }
  for (const key of Object.keys(raw)) {
    if (!RULE_KEYS.has(key)) problems.push(`${key}: unknown setting`);
  }

  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  if (raw['limits'] !== undefined) {
    if (typeof raw['limits'] !== 'object' || raw['limits'] === null) {
      problems.push('limits: expected an object of identifier type -> positive integer');
    } else {
      for (const [type, n] of Object.entries(raw['limits'])) {
        if (!isRuleType(type)) problems.push(`limits.${type}: unknown identifier type`);
        else if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1_000_000)
          problems.push(`limits.${type}: expected an integer from 1 to 1000000`);
        else limits[type] = n;
      }
    }
  }
  if (limits['user_id'] !== 1) {
    problems.push('limits.user_id: must be 1 (two different user ids are two different people)');
  }

  let priority: readonly string[] = DEFAULT_PRIORITY;
  if (raw['priority'] !== undefined) {
    const p = raw['priority'];
    if (!Array.isArray(p) || !p.every((x): x is string => typeof x === 'string')) {
      problems.push('priority: expected an array of identifier types');
    } else {
      const seen = new Set<string>();
      for (const type of p) {
        if (!isRuleType(type)) problems.push(`priority: unknown identifier type "${type}"`);
        if (seen.has(type)) problems.push(`priority: "${type}" is listed twice`);
        seen.add(type);
      }
      for (const type of [...BUILTIN_IDENTIFIER_TYPES, EXTERNAL_WILDCARD]) {
        if (!seen.has(type)) problems.push(`priority: "${type}" is missing`);
      }
      priority = [...p];
    }
  }

  let defaultRegion: CountryCode | undefined;
  const region = raw['defaultRegion'];
  if (region !== undefined) {
    if (typeof region !== 'string' || !isSupportedCountry(region))
      problems.push('defaultRegion: expected an ISO 3166-1 alpha-2 region such as "GB"');
    else defaultRegion = region;
  }

  let phoneValidation: PhoneValidation = 'valid';
  const pv = raw['phoneValidation'];
  if (pv !== undefined) {
    if (pv !== 'valid' && pv !== 'possible')
      problems.push('phoneValidation: expected "valid" or "possible"');
    else phoneValidation = pv;
  }

  const blockList = stringList(raw['blockList'], 'blockList', problems);
  const ignoredExternalTypes = stringList(
    raw['ignoredExternalTypes'],
    'ignoredExternalTypes',
    problems,
  ).map((t) => t.trim().toLowerCase());
  for (const t of ignoredExternalTypes) {
    if (!EXTERNAL_TYPE_PATTERN.test(t))
      problems.push(`ignoredExternalTypes: "${t}" is not a valid external type name`);
  }

  let maxValueLength = DEFAULT_MAX_VALUE_LENGTH;
  const mvl = raw['maxValueLength'];
  if (mvl !== undefined) {
    if (typeof mvl !== 'number' || !Number.isInteger(mvl) || mvl < 1 || mvl > 65_536)
      problems.push('maxValueLength: expected an integer from 1 to 65536');
    else maxValueLength = mvl;
  }

  if (problems.length > 0) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: `identity rules are not valid: ${problems.join('; ')}`,
      field: problems[0]?.split(':')[0] ?? 'identity',
    });
  }
  return Object.freeze({
    limits: Object.freeze(limits),
    priority: Object.freeze([...priority]),
    defaultRegion,
    phoneValidation,
    blockList: Object.freeze([...blockList]),
    maxValueLength,
    ignoredExternalTypes: Object.freeze(ignoredExternalTypes),
  });
}

/** The defaults: {@link DEFAULT_LIMITS}, {@link DEFAULT_PRIORITY}, no default region, `valid` phones, no block list, 1,024 characters. */
export const DEFAULT_IDENTITY_RULES: IdentityRules = createIdentityRules();

function isRuleType(type: string): boolean {
  if (type === EXTERNAL_WILDCARD || isBuiltinIdentifierType(type)) return true;
  return (
    type.startsWith(EXTERNAL_PREFIX) &&
    EXTERNAL_TYPE_PATTERN.test(type.slice(EXTERNAL_PREFIX.length))
  );
}

function stringList(v: unknown, name: string, problems: string[]): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    problems.push(`${name}: expected an array of strings`);
    return [];
  }
  return [...v];
}

/** Rules prepared for the hot path: ranks, limits and block list as lookups. */
export interface CompiledRules {
  readonly rules: IdentityRules;
  /** Position in the priority order; lower is more trusted. */
  rank(type: IdentifierType): number;
  /** The per-person limit for the type. */
  limit(type: IdentifierType): number;
  /** The block list, trimmed and lower-cased. */
  readonly blocked: ReadonlySet<string>;
  /** Ignored external type names. */
  readonly ignoredExternal: ReadonlySet<string>;
}

const compiledCache = new WeakMap<IdentityRules, CompiledRules>();

/** The compiled form of `rules`, cached per rules object. */
export function compileRules(rules: IdentityRules): CompiledRules {
  const hit = compiledCache.get(rules);
  if (hit !== undefined) return hit;
  const ranks = new Map<string, number>();
  rules.priority.forEach((t, i) => ranks.set(t, i));
  const externalRank = ranks.get(EXTERNAL_WILDCARD) ?? rules.priority.length;
  const externalLimit = rules.limits[EXTERNAL_WILDCARD] ?? 1;
  const compiled: CompiledRules = {
    rules,
    rank: (type) => ranks.get(type) ?? externalRank,
    limit: (type) => rules.limits[type] ?? externalLimit,
    blocked: new Set(rules.blockList.map((v) => v.trim().toLowerCase())),
    ignoredExternal: new Set(rules.ignoredExternalTypes),
  };
  compiledCache.set(rules, compiled);
  return compiled;
}
