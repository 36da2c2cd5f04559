/**
 * The attribution error catalogue. The package has no dependencies, so it does
 * not import `CdpError` from `@cdp/core`; {@link AttributionError} carries the
 * same fields (`code`, `statusCode`, `retryable`, `field`, `cause`) and its codes
 * follow the `CDP_ERR_<AREA>_<DETAIL>` scheme, so callers can translate it 1:1.
 */
export const ATTRIBUTION_ERROR_CATALOGUE = {
  CDP_ERR_ATTRIBUTION_INVALID_INPUT: {
    statusCode: 400,
    message: 'The path rows are not valid',
  },
  CDP_ERR_ATTRIBUTION_INVALID_OPTIONS: {
    statusCode: 400,
    message: 'The attribution options are not valid',
  },
  CDP_ERR_ATTRIBUTION_NOT_CONVERGED: {
    statusCode: 500,
    message: 'The Markov chain could not be solved to the required precision',
  },
} as const satisfies Record<string, { statusCode: number; message: string }>;

/** The closed union of attribution error codes. */
export type AttributionErrorCode = keyof typeof ATTRIBUTION_ERROR_CATALOGUE;

/** One problem found while validating input or options. */
export interface AttributionIssue {
  /** The offending field, e.g. `rows[3].conversions` or `models[1].order`. */
  readonly field: string;
  readonly message: string;
}

/** Most issues listed in one error; the count of the rest is reported. */
const MAX_LISTED_ISSUES = 20;

/**
 * The one error class of this package. Validation errors list every problem
 * found (up to {@link MAX_LISTED_ISSUES} in the message, all in `issues`).
 */
export class AttributionError extends Error {
  readonly code: AttributionErrorCode;
  readonly statusCode: number;
  readonly retryable = false;
  /** The first offending field, if any. */
  readonly field: string | undefined;
  /** Every problem found, in input order. */
  readonly issues: readonly AttributionIssue[];

  constructor(
    code: AttributionErrorCode,
    issues: readonly AttributionIssue[] = [],
    opts: { message?: string; cause?: unknown } = {},
  ) {
    super(
      opts.message ?? formatMessage(ATTRIBUTION_ERROR_CATALOGUE[code].message, issues),
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'AttributionError';
    this.code = code;
    this.statusCode = ATTRIBUTION_ERROR_CATALOGUE[code].statusCode;
    this.issues = issues;
    this.field = issues[0]?.field;
  }

  /** The JSON body an API answers with. */
  toJSON(): { code: AttributionErrorCode; message: string; issues: readonly AttributionIssue[] } {
    return { code: this.code, message: this.message, issues: this.issues };
  }
}

function formatMessage(base: string, issues: readonly AttributionIssue[]): string {
  if (issues.length === 0) return base;
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `${i.field}: ${i.message}`);
  const more =
    issues.length > MAX_LISTED_ISSUES ? [`... and ${issues.length - MAX_LISTED_ISSUES} more`] : [];
  return `${base}: ${[...listed, ...more].join('; ')}`;
}

/** Whether `e` is an {@link AttributionError}. */
export function isAttributionError(e: unknown): e is AttributionError {
  return e instanceof AttributionError;
}
