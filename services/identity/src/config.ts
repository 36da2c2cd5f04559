import type { JSONSchemaType } from '@cdp/core';
import {
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  type PlatformConfig,
} from '@cdp/core';
import {
  identityRulesConfigSchema,
  identityRulesFrom,
  type IdentityRulesConfig,
} from '@cdp/identity';

/** Settings of the identity service (OneID); the merge rules' are shared with ingest. */
export interface IdentityOwnConfig extends IdentityRulesConfig {
  /** Run OneID between ingest and the loader. Default true; false loads events without one_id. */
  CDP_IDENTITY_ENABLED: boolean;
  /**
   * All-in-one runner only: ingest stamps one_id itself, reading the
   * resolver's graph in the same process (default true: one bus hop less).
   * false: a stamper consumes cdp.events.raw into cdp.events.resolved, as in
   * distributed mode.
   */
  CDP_IDENTITY_STAMP_IN_INGEST: boolean;
  /** Port of the service's /healthz and /metrics when run alone. Default 8082. */
  CDP_IDENTITY_PORT: number;
}

export type IdentityConfig = PlatformConfig & IdentityOwnConfig;

export const identityConfigSchema: JSONSchemaType<IdentityOwnConfig> = mergeConfigSchemas(
  identityRulesConfigSchema,
  {
    type: 'object',
    properties: {
      CDP_IDENTITY_ENABLED: { type: 'boolean', default: true },
      CDP_IDENTITY_STAMP_IN_INGEST: { type: 'boolean', default: true },
      CDP_IDENTITY_PORT: { type: 'integer', default: 8082, minimum: 0, maximum: 65535 },
    },
    required: [],
    additionalProperties: false,
  } as unknown as JSONSchemaType<Omit<IdentityOwnConfig, keyof IdentityRulesConfig>>,
);

export function loadIdentityConfig(
  env: Record<string, string | undefined>,
  known: readonly string[] = [],
): Readonly<IdentityConfig> {
  return loadConfig(mergeConfigSchemas(platformConfigSchema, identityConfigSchema), env, {
    ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'],
    known,
  });
}

export { identityRulesFrom };
