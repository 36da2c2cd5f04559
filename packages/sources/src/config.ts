import type { JSONSchemaType } from '@cdp/core';

/** Settings of every process that reads sources (ingest, api) or writes the first-start credentials. */
export interface SourcesConfig {
  /** Admin token for the management and data APIs; empty: read or create `$CDP_DATA_DIR/credentials.json`. */
  CDP_ADMIN_TOKEN: string;
  /** How often each instance reloads sources from the warehouse, in ms. Default 10,000. */
  CDP_SOURCES_REFRESH_MS: number;
}

export const sourcesConfigSchema: JSONSchemaType<SourcesConfig> = {
  type: 'object',
  properties: {
    CDP_ADMIN_TOKEN: { type: 'string', default: '' },
    CDP_SOURCES_REFRESH_MS: { type: 'integer', default: 10_000, minimum: 100 },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<SourcesConfig>;
