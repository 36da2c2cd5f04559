import { CdpError, type ErrorCode } from '@cdp/core';

/**
 * Error codes of this package that `@cdp/core`'s `ERROR_CATALOGUE` does not
 * hold yet. The entries have the catalogue's shape so they can move there
 * as they are; until then {@link IdentityError} carries the nearest core code
 * in `code` and the precise one in `identityCode`.
 */
export const IDENTITY_ERROR_CATALOGUE = {
  CDP_ERR_IDENTITY_INVALID_IDENTIFIER: {
    statusCode: 400,
    message: 'The identifier type or value is not valid',
    coreCode: 'CDP_ERR_API_BAD_REQUEST',
  },
  CDP_ERR_IDENTITY_INVALID_INPUT: {
    statusCode: 500,
    message: 'The identity graph was called with invalid arguments',
    coreCode: 'CDP_ERR_INTERNAL',
  },
  CDP_ERR_IDENTITY_SNAPSHOT_INVALID: {
    statusCode: 500,
    message: 'The identity graph snapshot is not consistent',
    coreCode: 'CDP_ERR_INTERNAL',
  },
} as const satisfies Record<string, { statusCode: number; message: string; coreCode: ErrorCode }>;

/** The closed union of this package's error codes. */
export type IdentityErrorCode = keyof typeof IDENTITY_ERROR_CATALOGUE;

/** Most problems listed in one message; all are in `issues`. */
const MAX_LISTED_ISSUES = 20;

/** The error this package throws for programming errors and corrupt snapshots. */
export class IdentityError extends CdpError {
  /** The precise code (see {@link IDENTITY_ERROR_CATALOGUE}). */
  readonly identityCode: IdentityErrorCode;
  /** Every problem found, in input order. */
  readonly issues: readonly string[];

  constructor(code: IdentityErrorCode, issues: readonly string[] = [], field?: string) {
    const entry = IDENTITY_ERROR_CATALOGUE[code];
    const listed = issues.slice(0, MAX_LISTED_ISSUES);
    const more =
      issues.length > listed.length ? [`... and ${issues.length - listed.length} more`] : [];
    super(entry.coreCode, {
      message:
        listed.length === 0
          ? `${code}: ${entry.message}`
          : `${code}: ${entry.message}: ${[...listed, ...more].join('; ')}`,
      statusCode: entry.statusCode,
      ...(field === undefined ? {} : { field }),
    });
    this.name = 'IdentityError';
    this.identityCode = code;
    this.issues = issues;
  }
}
