/**
 * The lookalike error catalogue. Like `@cdp/attribution`, the package has no
 * dependencies, so it does not import `CdpError` from `@cdp/core`;
 * {@link LookalikeError} carries the same fields (`code`, `statusCode`,
 * `retryable`, `field`) and its codes follow the `CDP_ERR_<AREA>_<DETAIL>`
 * scheme, so a service translates it 1:1.
 */
export const LOOKALIKE_ERROR_CATALOGUE = {
  CDP_ERR_LOOKALIKE_INVALID_INPUT: {
    statusCode: 400,
    message: 'The lookalike input is not valid',
  },
} as const satisfies Record<string, { statusCode: number; message: string }>;

/** The closed union of lookalike error codes. */
export type LookalikeErrorCode = keyof typeof LOOKALIKE_ERROR_CATALOGUE;

/** One problem found while validating input. */
export interface LookalikeIssue {
  /** The offending field, e.g. `ratio` or `seedIndexes[3]`. */
  readonly field: string;
  readonly message: string;
}

/** Most issues listed in the message; all of them are in `issues`. */
const MAX_LISTED_ISSUES = 20;

/** The one error class of this package: every problem of one call, reported together. */
export class LookalikeError extends Error {
  readonly code: LookalikeErrorCode;
  readonly statusCode: number;
  readonly retryable = false;
  /** The first offending field. */
  readonly field: string | undefined;
  readonly issues: readonly LookalikeIssue[];

  constructor(code: LookalikeErrorCode, issues: readonly LookalikeIssue[]) {
    const base = LOOKALIKE_ERROR_CATALOGUE[code].message;
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `${i.field}: ${i.message}`);
    if (issues.length > MAX_LISTED_ISSUES)
      listed.push(`... and ${issues.length - MAX_LISTED_ISSUES} more`);
    super(listed.length === 0 ? base : `${base}: ${listed.join('; ')}`);
    this.name = 'LookalikeError';
    this.code = code;
    this.statusCode = LOOKALIKE_ERROR_CATALOGUE[code].statusCode;
    this.issues = issues;
    this.field = issues[0]?.field;
  }
}

/** Whether `e` is a {@link LookalikeError}. */
export function isLookalikeError(e: unknown): e is LookalikeError {
  return e instanceof LookalikeError;
}

/** Collects issues; `throwIfAny` throws them all at once. */
export class Issues {
  readonly list: LookalikeIssue[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  throwIfAny(): void {
    if (this.list.length > 0)
      throw new LookalikeError('CDP_ERR_LOOKALIKE_INVALID_INPUT', this.list);
  }
}
