import type { JSONSchemaType } from '@cdp/core';
import {
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  type PlatformConfig,
} from '@cdp/core';
import { identityRulesConfigSchema, type IdentityRulesConfig } from '@cdp/identity';
import { sourcesConfigSchema, type SourcesConfig } from '@cdp/sources';
import type { AdhocLaneOptions, ReadonlyQueryLimits } from '@cdp/warehouse';

/** Settings of the API service when it runs alone (the all-in-one runner serves it on ingest's port). */
export interface ApiOwnConfig {
  /** HTTP port of the API service. Default 8081. */
  CDP_API_PORT: number;
  /** Interface to listen on. Default `0.0.0.0`. */
  CDP_API_HOST: string;
  /** The tag engine service, which runs `POST /v1/tags/recompute`. Default `http://127.0.0.1:8083`. */
  CDP_TAG_ENGINE_URL: string;
  /** The segment exporter service, which runs `POST /v1/audiences/:name/refresh`. Default `http://127.0.0.1:8084`. */
  CDP_EXPORTER_URL: string;
  /** `POST /v1/sql`: seconds before a query is stopped (`max_execution_time`). Default 30. */
  CDP_SQL_MAX_EXECUTION_TIME: number;
  /** `POST /v1/sql`: most rows answered; more are cut (`truncated: true`). Default 10,000. */
  CDP_SQL_MAX_RESULT_ROWS: number;
  /** `POST /v1/sql`: largest answer in bytes (`max_result_bytes`, and as read). Default 16 MiB. */
  CDP_SQL_MAX_RESULT_BYTES: number;
  /** `POST /v1/sql`: memory of one query in bytes (`max_memory_usage`). Default 1 GiB. */
  CDP_SQL_MAX_MEMORY_USAGE: number;
  /** `POST /v1/sql`: most rows a query reads (`max_rows_to_read`; 0: no limit). Default 0. */
  CDP_SQL_MAX_ROWS_TO_READ: number;
  /** `POST /v1/sql`: most bytes a query reads (`max_bytes_to_read`; 0: no limit). Default 0. */
  CDP_SQL_MAX_BYTES_TO_READ: number;
  /** `POST /v1/sql`: queries running at once. Default 2. */
  CDP_SQL_MAX_CONCURRENT: number;
  /** `POST /v1/sql`: more that wait for a turn (429 past it). Default 8. */
  CDP_SQL_MAX_QUEUED: number;
  /** `POST /v1/sql`: milliseconds one waits for a turn before a 429. Default 5,000. */
  CDP_SQL_QUEUE_TIMEOUT_MS: number;
  /** The one browser origin the admin API answers (CORS), e.g. a console's. Default: none. */
  CDP_CONSOLE_ORIGIN: string;
  /** A read-only token for SQL, analytics and reading people and tags. Default: none. */
  CDP_ANALYTICS_TOKEN: string;
  /** Key of destination secrets at rest (32 bytes, base64 or hex), shared with the segment exporter; empty: the data dir's secrets.key. */
  CDP_SECRETS_KEY: string;
}

export const apiConfigSchema: JSONSchemaType<ApiOwnConfig> = {
  type: 'object',
  properties: {
    CDP_API_PORT: { type: 'integer', default: 8081, minimum: 0, maximum: 65535 },
    CDP_API_HOST: { type: 'string', default: '0.0.0.0' },
    CDP_TAG_ENGINE_URL: { type: 'string', default: 'http://127.0.0.1:8083' },
    CDP_EXPORTER_URL: { type: 'string', default: 'http://127.0.0.1:8084' },
    CDP_SECRETS_KEY: { type: 'string', default: '' },
    CDP_SQL_MAX_EXECUTION_TIME: {
      type: 'number',
      default: 30,
      exclusiveMinimum: 0,
      maximum: 86_400,
    },
    CDP_SQL_MAX_RESULT_ROWS: { type: 'integer', default: 10_000, minimum: 1 },
    // 256 MiB: the answer is decoded as one string, and V8's are at most 512 MiB.
    CDP_SQL_MAX_RESULT_BYTES: {
      type: 'integer',
      default: 16 * 1024 * 1024,
      minimum: 1,
      maximum: 256 * 1024 * 1024,
    },
    CDP_SQL_MAX_MEMORY_USAGE: { type: 'integer', default: 1024 * 1024 * 1024, minimum: 1 },
    CDP_SQL_MAX_ROWS_TO_READ: { type: 'integer', default: 0, minimum: 0 },
    CDP_SQL_MAX_BYTES_TO_READ: { type: 'integer', default: 0, minimum: 0 },
    CDP_SQL_MAX_CONCURRENT: { type: 'integer', default: 2, minimum: 1, maximum: 64 },
    CDP_SQL_MAX_QUEUED: { type: 'integer', default: 8, minimum: 0 },
    CDP_SQL_QUEUE_TIMEOUT_MS: { type: 'integer', default: 5_000, minimum: 1 },
    CDP_CONSOLE_ORIGIN: {
      type: 'string',
      default: '',
      // Empty (none), or a scheme, host and port: what a browser sends as Origin.
      pattern: '^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$',
    },
    // Empty (none), or at least 16 characters without spaces.
    CDP_ANALYTICS_TOKEN: { type: 'string', default: '', pattern: '^(\\S{16,})?$' },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<ApiOwnConfig>;

/**
 * The API service's settings: its own, the sources' (admin token, refresh)
 * and OneID's merge rules, which the Person API normalises lookups with
 * (they must be the identity service's).
 */
export type ApiConfig = PlatformConfig & SourcesConfig & IdentityRulesConfig & ApiOwnConfig;

/** Validates the API service's environment once; every problem is reported together. */
export function loadApiConfig(
  env: Record<string, string | undefined>,
  known: readonly string[] = [],
): Readonly<ApiConfig> {
  const schema = mergeConfigSchemas(
    mergeConfigSchemas(
      mergeConfigSchemas(platformConfigSchema, sourcesConfigSchema),
      identityRulesConfigSchema,
    ),
    apiConfigSchema,
  );
  return loadConfig(schema, env, {
    ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'],
    known,
  });
}

/** The limits of `POST /v1/sql` (ad-hoc SQL) from the settings. */
export function sqlLimitsFrom(config: ApiOwnConfig): ReadonlyQueryLimits {
  return {
    maxExecutionTime: config.CDP_SQL_MAX_EXECUTION_TIME,
    maxResultRows: config.CDP_SQL_MAX_RESULT_ROWS,
    maxResultBytes: config.CDP_SQL_MAX_RESULT_BYTES,
    maxMemoryUsage: config.CDP_SQL_MAX_MEMORY_USAGE,
    maxRowsToRead: config.CDP_SQL_MAX_ROWS_TO_READ,
    maxBytesToRead: config.CDP_SQL_MAX_BYTES_TO_READ,
  };
}

/** The ad-hoc lane of the API's warehouse (how many queries run and wait) from the settings. */
export function adhocLaneFrom(config: ApiOwnConfig): AdhocLaneOptions {
  return {
    maxConcurrent: config.CDP_SQL_MAX_CONCURRENT,
    maxQueued: config.CDP_SQL_MAX_QUEUED,
    queueTimeoutMs: config.CDP_SQL_QUEUE_TIMEOUT_MS,
  };
}
