import type { JSONSchemaType } from '@cdp/core';
import {
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  type PlatformConfig,
} from '@cdp/core';
import { identityRulesConfigSchema, type IdentityRulesConfig } from '@cdp/identity';
import { sourcesConfigSchema, type SourcesConfig } from '@cdp/sources';

/** Settings of the API service when it runs alone (the all-in-one runner serves it on ingest's port). */
export interface ApiOwnConfig {
  /** HTTP port of the API service. Default 8081. */
  CDP_API_PORT: number;
  /** Interface to listen on. Default `0.0.0.0`. */
  CDP_API_HOST: string;
  /** The tag engine service, which runs `POST /v1/tags/recompute`. Default `http://127.0.0.1:8083`. */
  CDP_TAG_ENGINE_URL: string;
}

export const apiConfigSchema: JSONSchemaType<ApiOwnConfig> = {
  type: 'object',
  properties: {
    CDP_API_PORT: { type: 'integer', default: 8081, minimum: 0, maximum: 65535 },
    CDP_API_HOST: { type: 'string', default: '0.0.0.0' },
    CDP_TAG_ENGINE_URL: { type: 'string', default: 'http://127.0.0.1:8083' },
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
