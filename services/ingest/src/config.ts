import type { JSONSchemaType } from '@cdp/core';
import {
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  type PlatformConfig,
} from '@cdp/core';
import { sourcesConfigSchema, type SourcesConfig } from '@cdp/sources';

/** Settings of the ingest service (HTTP collection). */
export interface IngestOwnConfig {
  /** HTTP port. Default 8080. */
  PORT: number;
  /** Interface to listen on. Default `0.0.0.0`. */
  HOST: string;
  /** Largest event, in bytes. Default 32 KiB (Segment's limit). */
  CDP_MAX_EVENT_BYTES: number;
  /** Largest batch request body, in bytes. Default 500 KiB (Segment's limit). */
  CDP_MAX_BATCH_BYTES: number;
  /** Most events in one batch request. Default 2,500. */
  CDP_MAX_BATCH_EVENTS: number;
  /** Deepest nesting of objects and arrays in an event. Default 32. */
  CDP_MAX_DEPTH: number;
  /** How far in the future a corrected timestamp may be before it falls back to receivedAt, in ms. Default 1 hour. */
  CDP_MAX_FUTURE_MS: number;
  /** Trust X-Forwarded-For (set when behind a load balancer). Default false. */
  CDP_TRUST_PROXY: boolean;
  /** Path the browser SDK is served at. Default `/s/c.js` (no word that ad blockers match). */
  CDP_SDK_PATH: string;
  /** Collection requests one IP may send per minute (429 and Retry-After past it; 0: no limit). Default 6,000. */
  CDP_RATE_LIMIT_PER_IP: number;
  /** Collection requests one write key may send per minute (0: no limit). Default 60,000. */
  CDP_RATE_LIMIT_PER_KEY: number;
  /** Refused requests without a valid write key kept as samples per minute (1 KiB each; all are counted). Default 10. */
  CDP_UNAUTH_SAMPLES_PER_MIN: number;
}

/** Ingest's settings with the platform's and the sources' (write-key lookups, first-start credentials). */
export type IngestConfig = PlatformConfig & SourcesConfig & IngestOwnConfig;

export const ingestConfigSchema: JSONSchemaType<IngestOwnConfig> = {
  type: 'object',
  properties: {
    PORT: { type: 'integer', default: 8080, minimum: 0, maximum: 65535 },
    HOST: { type: 'string', default: '0.0.0.0' },
    CDP_MAX_EVENT_BYTES: { type: 'integer', default: 32 * 1024, minimum: 1024 },
    CDP_MAX_BATCH_BYTES: { type: 'integer', default: 500 * 1024, minimum: 1024 },
    CDP_MAX_BATCH_EVENTS: { type: 'integer', default: 2500, minimum: 1 },
    CDP_MAX_DEPTH: { type: 'integer', default: 32, minimum: 2, maximum: 1000 },
    CDP_MAX_FUTURE_MS: { type: 'integer', default: 3_600_000, minimum: 0 },
    CDP_TRUST_PROXY: { type: 'boolean', default: false },
    CDP_SDK_PATH: {
      type: 'string',
      default: '/s/c.js',
      pattern: '^/(?!v1/)[A-Za-z0-9._~/-]+$',
      description: 'a path such as /s/c.js, outside /v1/',
    },
    CDP_RATE_LIMIT_PER_IP: { type: 'integer', default: 6000, minimum: 0 },
    CDP_RATE_LIMIT_PER_KEY: { type: 'integer', default: 60_000, minimum: 0 },
    CDP_UNAUTH_SAMPLES_PER_MIN: { type: 'integer', default: 10, minimum: 0 },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<IngestOwnConfig>;

/** Validates the ingest service's environment once; every problem is reported together. */
export function loadIngestConfig(
  env: Record<string, string | undefined>,
  known: readonly string[] = [],
): Readonly<IngestConfig> {
  const schema = mergeConfigSchemas(
    mergeConfigSchemas(platformConfigSchema, sourcesConfigSchema),
    ingestConfigSchema,
  );
  return loadConfig(schema, env, {
    ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'],
    known,
  });
}
