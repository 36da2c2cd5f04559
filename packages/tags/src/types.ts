/**
 * Tag definitions: data, not code. A definition is JSON (schema:
 * `schemas/tags/tag-definition.json`), stored versioned in the warehouse and
 * loadable from files. Each definition produces one tag (RFM produces seven).
 */

/** A scalar a filter or a rule compares with. */
export type Scalar = string | number | boolean;

/** Comparison operators of property filters. */
export type FilterOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'contains' | 'exists';

/** A condition on an event property (`properties.<property>`, dots for nested keys). */
export interface PropertyFilter {
  readonly property: string;
  readonly op: FilterOp;
  /** Required except for `exists`; an array for `in`. */
  readonly value?: Scalar | readonly Scalar[];
}

/** All time (absent), the last N days before the run, or `[from, to)` (ISO dates). */
export type TagWindow = { readonly days: number } | { readonly from: string; readonly to: string };

export type ComputedFn =
  | 'count'
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'first'
  | 'last'
  | 'most_frequent'
  | 'unique_list'
  | 'unique_count'
  | 'days_since_first'
  | 'days_since_last';

/** A trait computed over a person's events (through `events_by_person`). */
export interface ComputedSpec {
  readonly fn: ComputedFn;
  /** Track event name (or page/screen name); absent: any event. */
  readonly event?: string;
  /** The property aggregated; required except for count and days_since_*. */
  readonly property?: string;
  readonly where?: readonly PropertyFilter[];
  readonly window?: TagWindow;
}

/** Operators of rule conditions over tags and traits. */
export type RuleOp =
  | 'eq'
  | 'neq'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'in'
  | 'not_in'
  | 'contains'
  | 'exists'
  | 'not_exists';

export interface RuleLeaf {
  readonly name: string;
  readonly op: RuleOp;
  readonly value?: Scalar | readonly Scalar[];
}

/** A condition of a rule tag: over other tags, latest identify traits, and/or/not. */
export type RuleCondition =
  | { readonly and: readonly RuleCondition[] }
  | { readonly or: readonly RuleCondition[] }
  | { readonly not: RuleCondition }
  | { readonly tag: RuleLeaf }
  | { readonly trait: RuleLeaf };

export interface RuleSpec {
  /** Tried in order; the first match gives the value. */
  readonly rules: readonly { readonly when: RuleCondition; readonly value: string | number }[];
  /** The value when no rule matches; absent: no tag. */
  readonly default?: string | number;
}

/** Parameters of the purchase-based built-ins. */
export interface PurchaseParams {
  /** The conversion event (default `Order Completed`). */
  readonly event: string;
  /** Its value property (default `revenue`). */
  readonly valueProperty: string;
}

export interface RfmParams extends PurchaseParams {
  readonly windowDays: number;
}

export interface LifecycleParams extends PurchaseParams {
  readonly newDays: number;
  readonly reactivatedGapDays: number;
  readonly activeDays: number;
  readonly atRiskDays: number;
}

export interface ChurnRiskParams extends PurchaseParams {
  readonly highInactiveDays: number;
  readonly highNoPurchaseDays: number;
  readonly mediumInactiveDays: number;
  readonly mediumNoPurchaseDays: number;
}

export interface MemberTierParams extends PurchaseParams {
  readonly periodDays: number;
  /** Ascending thresholds of spend over the period; the first is the base tier. */
  readonly tiers: readonly { readonly name: string; readonly minSpend: number }[];
}

export type SpendingPowerParams = PurchaseParams;

export interface PriceSensitivityParams extends PurchaseParams {
  /** An order with any of these properties set (not empty, 0 or false) had a discount. */
  readonly discountProperties: readonly string[];
  readonly high: number;
  readonly medium: number;
}

export interface TopCategoriesParams {
  readonly property: string;
  readonly days: number;
  readonly top: number;
  /** Event name -> weight. */
  readonly weights: Readonly<Record<string, number>>;
}

export interface PreferredChannelParams {
  /** Minutes of inactivity that end a session. */
  readonly sessionMinutes: number;
}

/** Built-in kinds and their parameters. */
export interface BuiltinParams {
  readonly rfm: RfmParams;
  readonly lifecycle: LifecycleParams;
  readonly churn_risk: ChurnRiskParams;
  readonly member_tier: MemberTierParams;
  readonly spending_power: SpendingPowerParams;
  readonly price_sensitivity: PriceSensitivityParams;
  readonly top_categories: TopCategoriesParams;
  readonly preferred_channel: PreferredChannelParams;
}

export type BuiltinKind = keyof BuiltinParams;

interface DefinitionBase {
  /** Lower-case letters, digits and `_`; the tag's name (RFM: the definition's). */
  readonly name: string;
  readonly description?: string;
  /** Default true. A disabled definition produces no tag (its values are removed). */
  readonly enabled?: boolean;
}

export type ComputedDefinition = DefinitionBase & {
  readonly type: 'computed';
  readonly computed: ComputedSpec;
};
export type RuleDefinition = DefinitionBase & { readonly type: 'rule'; readonly rule: RuleSpec };
export type BuiltinDefinition = {
  [K in BuiltinKind]: DefinitionBase & { readonly type: K; readonly params: BuiltinParams[K] };
}[BuiltinKind];

export type TagDefinition = ComputedDefinition | RuleDefinition | BuiltinDefinition;

/** A stored definition: the definition plus its version and whether it is a built-in. */
export interface StoredDefinition {
  readonly definition: TagDefinition;
  readonly version: number;
  readonly builtin: boolean;
  readonly updatedAt: string;
}

/** How values of a tag read: numbers, strings, or lists of strings. */
export type TagValueType = 'number' | 'string' | 'list';
