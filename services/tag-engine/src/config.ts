import type { JSONSchemaType } from '@cdp/core';
import { sourcesConfigSchema, type SourcesConfig } from '@cdp/sources';
import {
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  type PlatformConfig,
} from '@cdp/core';

/** Settings of the tag engine. */
export interface TagEngineOwnConfig {
  /** Run the tag engine (in the all-in-one runner). Default true. */
  CDP_TAGS_ENABLED: boolean;
  /** Seconds between scheduled runs. Default 60. */
  CDP_TAGS_INTERVAL: number;
  /** A folder of `*.json` tag definitions loaded at start ("as code"); empty: none. */
  CDP_TAGS_DIR: string;
  /** Events loaded less than this many ms before a run are left to the next one. Default 2,000. */
  CDP_TAGS_LOAD_MARGIN_MS: number;
  /**
   * Most threads a tag run's queries may use on embedded chDB (set on its
   * own session). Default 0: ClickHouse's default (every core). Measured on
   * 2 cores, 1 made the run slower and did not help ingest's latency.
   */
  CDP_TAGS_MAX_THREADS: number;
  /** Port of the tag engine's /healthz, /readyz, /metrics and run endpoint when run alone. Default 8083. */
  CDP_TAGS_PORT: number;
}

export type TagEngineConfig = PlatformConfig & TagEngineOwnConfig;

export const tagEngineConfigSchema: JSONSchemaType<TagEngineOwnConfig> = {
  type: 'object',
  properties: {
    CDP_TAGS_ENABLED: { type: 'boolean', default: true },
    CDP_TAGS_INTERVAL: { type: 'number', default: 60, minimum: 0.05, maximum: 86_400 },
    CDP_TAGS_DIR: { type: 'string', default: '' },
    CDP_TAGS_LOAD_MARGIN_MS: { type: 'integer', default: 2000, minimum: 0, maximum: 600_000 },
    CDP_TAGS_MAX_THREADS: { type: 'integer', default: 0, minimum: 0, maximum: 256 },
    CDP_TAGS_PORT: { type: 'integer', default: 8083, minimum: 0, maximum: 65535 },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<TagEngineOwnConfig>;

/** The tag engine's settings when it runs alone: its own, the sources' (admin token) and where ingest is. */
export type TagEngineServiceConfig = TagEngineConfig &
  SourcesConfig & {
    /** Ingest, where derived events (tier changes) go: `POST /v1/derived/batch`. Default `http://127.0.0.1:8080`. */
    CDP_INGEST_URL: string;
  };

/** Validates the tag engine's environment once; every problem is reported together. */
export function loadTagEngineConfig(
  env: Record<string, string | undefined>,
  known: readonly string[] = [],
): Readonly<TagEngineServiceConfig> {
  const schema = mergeConfigSchemas(
    mergeConfigSchemas(
      mergeConfigSchemas(platformConfigSchema, tagEngineConfigSchema),
      sourcesConfigSchema,
    ),
    {
      type: 'object',
      properties: { CDP_INGEST_URL: { type: 'string', default: 'http://127.0.0.1:8080' } },
      required: [],
      additionalProperties: false,
    } as unknown as JSONSchemaType<{ CDP_INGEST_URL: string }>,
  );
  return loadConfig(schema, env, { ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'], known });
}
