/**
 * The one error catalogue. Every error a user or operator can see carries a
 * stable `CDP_ERR_<AREA>_<DETAIL>` code from this table; messages may change,
 * codes may not.
 */
export const ERROR_CATALOGUE = {
  // Ingest: request-level
  CDP_ERR_INGEST_AUTH_MISSING: {
    statusCode: 401,
    message:
      'No write key: send HTTP Basic auth (writeKey as the user name) or "writeKey" in the body',
  },
  CDP_ERR_INGEST_AUTH_INVALID: { statusCode: 401, message: 'Unknown or revoked write key' },
  CDP_ERR_INGEST_CONTENT_TYPE: { statusCode: 415, message: 'Send application/json or text/plain' },
  CDP_ERR_INGEST_CONTENT_ENCODING: {
    statusCode: 415,
    message: 'Send the body uncompressed, gzip or deflate',
  },
  CDP_ERR_INGEST_MALFORMED_JSON: { statusCode: 400, message: 'The body is not valid JSON' },
  CDP_ERR_INGEST_INVALID_UTF8: { statusCode: 400, message: 'The body is not valid UTF-8' },
  CDP_ERR_INGEST_BODY_TOO_LARGE: { statusCode: 413, message: 'The request body is over the limit' },
  CDP_ERR_INGEST_EVENT_TOO_LARGE: {
    statusCode: 413,
    message: 'The event is over the per-event size limit',
  },
  CDP_ERR_INGEST_BATCH_TOO_MANY: {
    statusCode: 413,
    message: 'The batch has more events than allowed',
  },
  CDP_ERR_INGEST_BATCH_EMPTY: { statusCode: 400, message: 'The batch has no events' },
  CDP_ERR_INGEST_TOO_DEEP: {
    statusCode: 400,
    message: 'The event nests objects deeper than allowed',
  },
  CDP_ERR_INGEST_ORIGIN_NOT_ALLOWED: {
    statusCode: 403,
    message: "This origin is not on the source's allowed origins",
  },
  CDP_ERR_INGEST_REDIRECT_NOT_ALLOWED: {
    statusCode: 400,
    message: "The redirect target is not on the source's redirect allow-list",
  },
  CDP_ERR_INGEST_BACKPRESSURE: {
    statusCode: 503,
    message: 'The event bus cannot take events right now; retry later',
  },
  CDP_ERR_INGEST_RATE_LIMITED: {
    statusCode: 429,
    message: 'Too many requests from this address or write key; retry after Retry-After seconds',
  },
  // Ingest: event-level validation
  CDP_ERR_EVENT_INVALID_TYPE: { statusCode: 400, message: 'A field has the wrong type' },
  CDP_ERR_EVENT_MISSING_FIELD: { statusCode: 400, message: 'A required field is missing' },
  CDP_ERR_EVENT_MISSING_ID: {
    statusCode: 400,
    message: 'Either userId or anonymousId is required',
  },
  CDP_ERR_EVENT_INVALID_VALUE: {
    statusCode: 400,
    message: 'A field has a value outside what is allowed',
  },
  CDP_ERR_EVENT_UNKNOWN_TYPE: { statusCode: 400, message: 'Unknown event type' },
  // Management API
  CDP_ERR_API_UNAUTHORIZED: {
    statusCode: 401,
    message: 'Send Authorization: Bearer <admin token>',
  },
  CDP_ERR_API_FORBIDDEN: { statusCode: 403, message: 'This token may not use this API' },
  CDP_ERR_API_NOT_FOUND: { statusCode: 404, message: 'Not found' },
  CDP_ERR_API_BAD_REQUEST: { statusCode: 400, message: 'The request is not valid' },
  // Warehouse
  CDP_ERR_WAREHOUSE_QUERY: { statusCode: 400, message: 'The query failed' },
  CDP_ERR_WAREHOUSE_READONLY: { statusCode: 403, message: 'Only read queries are allowed here' },
  CDP_ERR_WAREHOUSE_UNAVAILABLE: { statusCode: 503, message: 'The warehouse cannot be reached' },
  CDP_ERR_WAREHOUSE_MIGRATION: { statusCode: 500, message: 'A warehouse migration failed' },
  // Ad-hoc SQL (`POST /v1/sql`)
  CDP_ERR_SQL_LIMIT: {
    statusCode: 422,
    message:
      'The query went over a limit (the field names it); the same query fails again: make it cheaper',
  },
  CDP_ERR_SQL_BUSY: {
    statusCode: 429,
    message: 'Too many ad-hoc queries are running or waiting; retry after Retry-After seconds',
  },
  // Bus
  CDP_ERR_BUS_UNAVAILABLE: { statusCode: 503, message: 'The event bus cannot be reached' },
  CDP_ERR_BUS_CLOSED: { statusCode: 503, message: 'The event bus is closed' },
  CDP_ERR_BUS_MESSAGE_TOO_LARGE: { statusCode: 413, message: 'The message is over the bus limit' },
  // Loader
  CDP_ERR_LOADER_BAD_MESSAGE: {
    statusCode: 500,
    message: 'A bus message could not be read as an event; it was dead-lettered',
  },
  CDP_ERR_LOADER_ROW_REFUSED: {
    statusCode: 500,
    message: 'The warehouse refused this row; it was dead-lettered and loading went on',
  },
  // Config
  // Identity (OneID) and the Person API
  CDP_ERR_IDENTITY_BAD_LINK: {
    statusCode: 500,
    message: 'The resolver could not apply or store this link message; it was dead-lettered',
  },
  CDP_ERR_IDENTITY_INVALID_IDENTIFIER: {
    statusCode: 400,
    message: 'The identifier type or value is not valid',
  },
  CDP_ERR_IDENTITY_OPERATION_REFUSED: {
    statusCode: 409,
    message: 'The identity resolver refused the operation',
  },
  CDP_ERR_IDENTITY_UNAVAILABLE: {
    statusCode: 503,
    message: 'The identity resolver did not answer in time; the operation is queued, try again',
  },
  // Tag engine
  CDP_ERR_TAG_INVALID: { statusCode: 400, message: 'The tag definition is not valid' },
  CDP_ERR_TAG_NOT_FOUND: { statusCode: 404, message: 'No tag definition with this name' },
  CDP_ERR_TAG_EXISTS: {
    statusCode: 409,
    message: 'A tag definition with this name exists (use PUT to change it)',
  },
  CDP_ERR_TAG_RUN_FAILED: { statusCode: 500, message: 'The tag computation failed' },
  // Audiences
  CDP_ERR_AUDIENCE_INVALID: { statusCode: 400, message: 'The audience definition is not valid' },
  CDP_ERR_AUDIENCE_NOT_FOUND: { statusCode: 404, message: 'No audience with this name' },
  CDP_ERR_AUDIENCE_EXISTS: {
    statusCode: 409,
    message: 'An audience with this name exists (use PUT to change it)',
  },
  CDP_ERR_AUDIENCE_RUN_FAILED: { statusCode: 500, message: 'The audience computation failed' },
  // Destinations
  CDP_ERR_DESTINATION_INVALID: { statusCode: 400, message: 'The destination is not valid' },
  CDP_ERR_DESTINATION_NOT_FOUND: { statusCode: 404, message: 'No destination with this id' },
  CDP_ERR_EXPORT_FAILED: { statusCode: 502, message: 'The delivery to the destination failed' },
  // Metrics and alerts
  CDP_ERR_METRIC_INVALID: {
    statusCode: 400,
    message: 'The metric definition or query is not valid',
  },
  CDP_ERR_METRIC_NOT_FOUND: { statusCode: 404, message: 'No metric with this name' },
  CDP_ERR_METRIC_EXISTS: {
    statusCode: 409,
    message: 'A metric with this name exists (use PUT to change it)',
  },
  CDP_ERR_ALERT_INVALID: { statusCode: 400, message: 'The alert rule is not valid' },
  CDP_ERR_ALERT_NOT_FOUND: { statusCode: 404, message: 'No alert with this id' },
  CDP_ERR_CONFIG_INVALID: { statusCode: 500, message: 'The configuration is not valid' },
  CDP_ERR_INTERNAL: { statusCode: 500, message: 'Internal error' },
} as const satisfies Record<string, { statusCode: number; message: string }>;

/** The closed union of error codes. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface CdpErrorOptions {
  /** Overrides the catalogue message with a more specific one. */
  message?: string;
  /** The offending field, as a JSON pointer-ish path (`properties.price`, `batch[3].userId`). */
  field?: string;
  /** Whether trying again later can succeed. */
  retryable?: boolean;
  cause?: unknown;
  /** Overrides the catalogue HTTP status. */
  statusCode?: number;
}

/** The one error base class: a stable code, an HTTP status, and whether a retry can help. */
export class CdpError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly field: string | undefined;

  constructor(code: ErrorCode, opts: CdpErrorOptions = {}) {
    super(
      opts.message ?? ERROR_CATALOGUE[code].message,
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'CdpError';
    this.code = code;
    this.statusCode = opts.statusCode ?? ERROR_CATALOGUE[code].statusCode;
    this.retryable = opts.retryable ?? false;
    this.field = opts.field;
  }

  /** The JSON body an API answers with. */
  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

export function isCdpError(e: unknown): e is CdpError {
  return e instanceof CdpError;
}

/** Whether a string is a code of the catalogue (e.g. one another service answered with). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}
