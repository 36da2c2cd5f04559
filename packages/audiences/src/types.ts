/**
 * The audience DSL: a definition is a tree of conditions on a person's
 * latest identify traits, their tags, their events and their identifiers.
 * `schemas/audiences/audience-definition.json` is the same shape as a JSON
 * Schema; `validateAudience` checks it and names the path of what is wrong.
 */

/** Comparison operators of trait, tag and property filters. */
export const VALUE_OPS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'not_in',
  'contains',
  'exists',
  'not_exists',
  'between',
] as const;
export type ValueOp = (typeof VALUE_OPS)[number];

/** Operators of counts and aggregates (numbers only). */
export const NUMBER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'] as const;
export type NumberOp = (typeof NUMBER_OPS)[number];

export type Scalar = string | number | boolean;

/**
 * A value test. `value` is: absent for `exists` / `not_exists`; a pair of
 * numbers `[low, high]` (both included) for `between`; a non-empty list of
 * strings or of numbers for `in` / `not_in`; a number for `gt`..`lte`; a
 * string for `contains`; a string, number or boolean for `eq` / `neq`.
 */
export interface ValueTest {
  readonly op: ValueOp;
  readonly value?: Scalar | readonly Scalar[] | undefined;
}

export interface NamedTest extends ValueTest {
  readonly name: string;
}

export interface PropertyTest extends ValueTest {
  /** A property of the event, dots for nested ones (`product.price`). */
  readonly property: string;
}

export interface NumberTest {
  readonly op: NumberOp;
  readonly value: number | readonly [number, number];
}

/**
 * A time window ending now (`days` or `hours` back, both ends included), or
 * fixed dates (`from` and `to`, ISO dates or date-times, both included).
 */
export type Window =
  | { readonly days: number }
  | { readonly hours: number }
  | { readonly from: string; readonly to: string };

/** A span of time, for sequences. */
export type Span = { readonly days: number } | { readonly hours: number };

export interface EventMatch {
  /** The track event's name (`event`). */
  readonly event: string;
  readonly where?: readonly PropertyTest[] | undefined;
}

export interface Performed extends EventMatch {
  /** How many matching events (default `gte 1`). */
  readonly count?: NumberTest | undefined;
  /** Only events in this window (default: all time). */
  readonly within?: Window | undefined;
  /** The sum, average, minimum or maximum of a number property over the matching events. */
  readonly aggregate?:
    | (NumberTest & { readonly fn: 'sum' | 'avg' | 'min' | 'max'; readonly property: string })
    | undefined;
}

export type Condition =
  | { readonly and: readonly Condition[] }
  | { readonly or: readonly Condition[] }
  | { readonly not: Condition }
  | { readonly trait: NamedTest }
  | { readonly tag: NamedTest }
  | { readonly performed: Performed }
  | { readonly sequence: { readonly steps: readonly EventMatch[]; readonly within: Span } }
  | { readonly first_time: { readonly event: string; readonly within: Window } }
  | {
      readonly stopped: {
        readonly event: string;
        readonly before: { readonly days: number };
        readonly not_within: { readonly days: number };
      };
    }
  | {
      readonly restarted: {
        readonly event: string;
        readonly before: { readonly days: number };
        readonly gap: { readonly days: number };
        readonly within: { readonly days: number };
      };
    }
  | { readonly in_audience: string }
  /** The person is on the stored list of that name (`audience_lists`: a lookalike's members). */
  | { readonly in_list: string }
  | { readonly identifier: { readonly type: string } };

/** Every kind of condition, by its key. */
export const CONDITION_KINDS = [
  'and',
  'or',
  'not',
  'trait',
  'tag',
  'performed',
  'sequence',
  'first_time',
  'stopped',
  'restarted',
  'in_audience',
  'in_list',
  'identifier',
] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

export interface AudienceDefinition {
  readonly conditions: Condition;
  readonly description?: string | undefined;
}

/** Identifier types a person can be contacted or matched by (`identifier.type: exists`: email or phone). */
export const CONTACT_TYPES = ['email', 'phone'] as const;
