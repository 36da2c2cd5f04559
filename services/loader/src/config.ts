import type { JSONSchemaType } from '@cdp/core';
import {
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  type PlatformConfig,
} from '@cdp/core';

/** Settings of the loader service. */
export interface LoaderOwnConfig {
  /** Longest wait before pending rows are inserted, in ms. Default 1,000. */
  CDP_LOADER_FLUSH_MS: number;
  /** Rows that trigger an insert at once. Default 20,000 (bounds the memory of one insert). */
  CDP_LOADER_MAX_ROWS: number;
  /** Port of the loader's own /healthz and /metrics when run alone. Default 8081. */
  CDP_LOADER_PORT: number;
}

export type LoaderConfig = PlatformConfig & LoaderOwnConfig;

export const loaderConfigSchema: JSONSchemaType<LoaderOwnConfig> = {
  type: 'object',
  properties: {
    CDP_LOADER_FLUSH_MS: { type: 'integer', default: 1000, minimum: 10, maximum: 60_000 },
    CDP_LOADER_MAX_ROWS: { type: 'integer', default: 20_000, minimum: 1 },
    CDP_LOADER_PORT: { type: 'integer', default: 8081, minimum: 0, maximum: 65535 },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<LoaderOwnConfig>;

export function loadLoaderConfig(
  env: Record<string, string | undefined>,
  known: readonly string[] = [],
): Readonly<LoaderConfig> {
  return loadConfig(mergeConfigSchemas(platformConfigSchema, loaderConfigSchema), env, {
    ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'],
    known,
  });
}
